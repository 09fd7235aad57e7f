//! The kept marketplace's rules, for both cores: which `GET /codes` query a code belongs to, in
//! what order the server lists it, and where a code pushed by a live event now sits on a kept
//! first page.

use std::cmp::Ordering;

use oddxer_shared::api::CodeOut;
use oddxer_shared::client::{BrowseIn, CodeSort};
use oddxer_shared::CodeStatus;

/// `GET /codes` default page size.
pub const DEFAULT_LIMIT: i64 = 20;

/// The page size of query `q` (the server's bounds: 1..=100).
pub fn page_limit(q: &BrowseIn) -> usize {
    q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 100) as usize
}

/// Milliseconds since the epoch of an RFC 3339 time; 0 for anything else (sorts first).
pub fn rfc3339_ms(text: &str) -> i64 {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0)
}

/// Whether the server would list `c` for query `q`.
pub fn matches(q: &BrowseIn, c: &CodeOut) -> bool {
    let status = q.status.unwrap_or(CodeStatus::Active);
    c.status == status
        && q.sport.is_none_or(|s| s == c.sport)
        && q.bookmaker
            .as_deref()
            .is_none_or(|b| b.eq_ignore_ascii_case(&c.bookmaker))
        && q.min_odds.is_none_or(|m| c.odds >= m)
        && q.max_odds.is_none_or(|m| c.odds <= m)
        && q.min_price.is_none_or(|m| c.price.amount >= m)
        && q.max_price.is_none_or(|m| c.price.amount <= m)
        && q.seller.as_deref().is_none_or(|s| s == c.seller_id)
        && q.q
            .as_deref()
            .is_none_or(|words| oddxer_shared::search::matches(words, &c.title, &c.seller_username))
}

/// Whether `q` filters by the tipster's record (minimum win rate or yield), which only the server
/// knows: a code the device has not seen listed under `q` cannot be placed on its page.
fn has_record_floor(q: &BrowseIn) -> bool {
    q.min_win_rate.is_some() || q.min_yield.is_some()
}

/// The server's order for `sort`, ties broken by id in the same direction.
pub fn compare(sort: CodeSort, a: &CodeOut, b: &CodeOut) -> Ordering {
    let by = match sort {
        CodeSort::Newest => rfc3339_ms(&b.created_at).cmp(&rfc3339_ms(&a.created_at)),
        CodeSort::Price => a.price.amount.cmp(&b.price.amount),
        CodeSort::PriceDesc => b.price.amount.cmp(&a.price.amount),
        CodeSort::Odds => a.odds.total_cmp(&b.odds),
        CodeSort::OddsDesc => b.odds.total_cmp(&a.odds),
        CodeSort::ExpiresAt => rfc3339_ms(&a.expires_at).cmp(&rfc3339_ms(&b.expires_at)),
    };
    let descending = matches!(
        sort,
        CodeSort::Newest | CodeSort::PriceDesc | CodeSort::OddsDesc
    );
    by.then_with(|| {
        if descending {
            b.id.cmp(&a.id)
        } else {
            a.id.cmp(&b.id)
        }
    })
}

/// Where `code` (a live copy) now belongs on the kept first page `page` of query `q`: added in
/// the page's order where the filters admit it (dropped off the end when the page is full and it
/// sorts last), removed where they no longer do (sold out, finalized). `None` when the page stays
/// as it is.
pub fn place_on_page(q: &BrowseIn, page: &[CodeOut], code: &CodeOut) -> Option<Vec<CodeOut>> {
    let had = page.iter().any(|c| c.id == code.id);
    let next: Vec<CodeOut> = if matches(q, code) && (had || !has_record_floor(q)) {
        let mut codes: Vec<CodeOut> = page.iter().filter(|c| c.id != code.id).cloned().collect();
        codes.push(code.clone());
        let sort = q.sort.unwrap_or_default();
        codes.sort_by(|a, b| compare(sort, a, b));
        codes.truncate(page_limit(q));
        codes
    } else if had {
        page.iter().filter(|c| c.id != code.id).cloned().collect()
    } else {
        return None;
    };
    (next.as_slice() != page).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn newest() -> BrowseIn {
        BrowseIn {
            limit: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_listing_goes_first_on_a_newest_page_and_pushes_the_last_off() {
        let mut a = fixtures::code("a");
        a.created_at = "2026-01-01T00:00:00Z".into();
        let mut b = fixtures::code("b");
        b.created_at = "2026-01-02T00:00:00Z".into();
        let mut c = fixtures::code("c");
        c.created_at = "2026-01-03T00:00:00.5Z".into();
        let page = vec![b.clone(), a];
        let next = place_on_page(&newest(), &page, &c).unwrap();
        let ids: Vec<&str> = next.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c", "b"]);
    }

    #[test]
    fn a_search_page_takes_only_matching_codes() {
        let q = BrowseIn {
            q: Some("ars".into()),
            ..newest()
        };
        let mut hit = fixtures::code("h");
        hit.title = "Arsenal to win".into();
        let mut miss = fixtures::code("m");
        miss.title = "Chelsea draw".into();
        assert_eq!(place_on_page(&q, &[], &miss), None);
        assert_eq!(place_on_page(&q, &[], &hit), Some(vec![hit]));
    }

    #[test]
    fn under_a_record_floor_a_new_code_waits_for_the_server_but_a_listed_one_updates() {
        let q = BrowseIn {
            min_win_rate: Some(60.0),
            ..newest()
        };
        let listed = fixtures::code("l");
        assert_eq!(place_on_page(&q, &[], &fixtures::code("n")), None);
        let mut sold = listed.clone();
        sold.sales_count = 1;
        assert_eq!(
            place_on_page(&q, &[listed], &sold),
            Some(vec![sold.clone()])
        );
    }

    #[test]
    fn a_finalized_code_leaves_the_active_page_and_an_unrelated_one_changes_nothing() {
        let a = fixtures::code("a");
        let mut done = a.clone();
        done.status = CodeStatus::Won;
        let page = vec![a];
        assert_eq!(place_on_page(&newest(), &page, &done), Some(vec![]));
        let mut other = fixtures::code("z");
        other.status = CodeStatus::Won;
        assert_eq!(place_on_page(&newest(), &page, &other), None);
    }
}
