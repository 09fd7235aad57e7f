//! Buyers' votes on a code and the resolution that finalizes it.

use serde::{Deserialize, Serialize};

/// `POST /codes/{id}/votes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoteIn {
    pub vote_type: crate::VoteType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VoteOut {
    pub id: String,
    pub code_id: String,
    pub vote_type: crate::VoteType,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub total_votes: i64,
    /// Set when this vote completed the voting (every buyer voted) and decided the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<crate::Outcome>,
    pub created_at: String,
}

/// `POST /admin/codes/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveIn {
    pub outcome: crate::Outcome,
    /// Why the admin decided so (recorded with the resolution; 1 to 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The one decision that finalized a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResolutionOut {
    pub code_id: String,
    pub outcome: crate::Outcome,
    /// MAJORITY, ALL_VOTED, ADMIN, VERIFIER or UNSOLD.
    pub decided_by: String,
    pub win_votes: i64,
    pub loss_votes: i64,
    pub decided_at: String,
    /// The admin's recorded reason, for a decision taken by an admin with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
