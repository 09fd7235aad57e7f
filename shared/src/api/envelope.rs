//! The envelopes every answer comes in, and a page of a list.

use serde::{Deserialize, Serialize};

/// The success envelope: `{"success": true, "data": ..., "message"?: ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T> {
    pub success: bool,
    pub data: T,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The error envelope: `{"success": false, "error": {...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub success: bool,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ErrorBody {
    /// `details.fields` (`{"fields": {"amount": "must be ..."}}`) as a map from the API's field
    /// name to what is wrong with it; empty when the error names no field. Both client cores show
    /// each message beside its field.
    pub fn field_messages(&self) -> std::collections::BTreeMap<String, String> {
        self.details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(|(name, problem)| {
                        Some((name.clone(), problem.as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A page of a list: `{items, nextCursor}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
