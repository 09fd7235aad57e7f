//! Tipsters: a profile with its record and performance, a tipster's figures alone, following
//! and unfollowing, and the tipsters I follow; each kept for reading offline.

use oddxer_shared::api::{
    CodeOut, FollowOut, FollowedSellerOut, Page, PerformancePointOut, SellerProfileOut,
};
use oddxer_shared::client::{CursorIn, SellerProfileView};

use super::R;
use crate::web::error::WebError;
use crate::web::http::Call;
use crate::web::{now_rfc3339, path_id, schedule_save, with};

/// A tipster's profile, first record page and performance, kept for offline reading.
pub async fn seller_profile(id: &str) -> R<SellerProfileView> {
    let id = path_id(id)?;
    let live = async {
        let profile_call = Call::get(&format!("/sellers/{id}")).maybe_signed_in();
        let record_call =
            Call::get(&format!("/sellers/{id}/codes")).query(&CursorIn { cursor: None });
        let performance_call = Call::get(&format!("/sellers/{id}/performance"));
        // Three independent reads: one wait, not three in a row.
        let (profile, record, performance) = futures_util::future::try_join3(
            profile_call.fetch::<SellerProfileOut>(),
            record_call.fetch::<Page<CodeOut>>(),
            performance_call.fetch::<Vec<PerformancePointOut>>(),
        )
        .await?;
        Ok::<_, WebError>(SellerProfileView {
            profile,
            record: record.items,
            record_next_cursor: record.next_cursor,
            performance,
            from_cache: false,
            cached_at: None,
        })
    };
    match live.await {
        Ok(view) => {
            with(|s| {
                let mut kept = view.clone();
                kept.cached_at = Some(now_rfc3339());
                s.doc.profiles.insert(id.to_owned(), kept);
            });
            schedule_save();
            Ok(view)
        }
        Err(e) if e.is_unreachable() => with(|s| s.doc.profiles.get(id).cloned())
            .map(|mut v| {
                v.from_cache = true;
                v
            })
            .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// A tipster's figures alone; offline, the kept profile's.
pub async fn seller_summary(id: &str) -> R<SellerProfileOut> {
    let id = path_id(id)?;
    match Call::get(&format!("/sellers/{id}"))
        .maybe_signed_in()
        .fetch::<SellerProfileOut>()
        .await
    {
        Err(e) if e.is_unreachable() => {
            with(|s| s.doc.profiles.get(id).map(|v| v.profile.clone())).ok_or_else(|| e.into())
        }
        other => other.map_err(Into::into),
    }
}

/// `PUT` / `DELETE /sellers/{id}/follow`; the kept profile follows. Never queued.
pub async fn follow_seller(id: &str, follow: bool) -> R<FollowOut> {
    let path = format!("/sellers/{}/follow", path_id(id)?);
    let call = if follow {
        Call::put(&path)
    } else {
        Call::delete(&path)
    };
    let out: FollowOut = call.signed_in().fetch().await?;
    with(|s| {
        if let Some(v) = s.doc.profiles.get_mut(&out.seller_id) {
            v.profile.following = out.following;
            v.profile.followers = out.followers;
        }
    });
    schedule_save();
    Ok(out)
}

/// The tipsters I follow (`GET /me/following`); offline, the list last read.
pub async fn my_following() -> R<Vec<FollowedSellerOut>> {
    // One page of the largest size, as the native core asks.
    match Call::get("/me/following?limit=100")
        .signed_in()
        .fetch::<Page<FollowedSellerOut>>()
        .await
        .map(|page| page.items)
    {
        Ok(list) => {
            with(|s| s.doc.following = Some(list.clone()));
            schedule_save();
            Ok(list)
        }
        Err(e) if e.is_unreachable() => with(|s| s.doc.following.clone()).ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}
