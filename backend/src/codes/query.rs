//! `GET /codes` as plain data: parsed filters, the MongoDB filter and sort they become, opaque
//! keyset cursors `(sort key, _id)`, and the index each query shape uses.

use super::rules;
use crate::db::INDEXES;
use crate::error::AppError;
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
pub use oddxer_shared::api::CodeSort;
use oddxer_shared::{CodeStatus, Sport};
use serde::Deserialize;

/// The cursor tag of a sort (one letter): a cursor is only good for the sort that issued it.
fn sort_tag(sort: CodeSort) -> &'static str {
    match sort {
        CodeSort::Newest => "n",
        CodeSort::Price => "p",
        CodeSort::PriceDesc => "P",
        CodeSort::Odds => "o",
        CodeSort::OddsDesc => "O",
        CodeSort::ExpiresAt => "e",
    }
}

/// Whether the sort key is a date (milliseconds in the cursor) rather than a number.
fn sort_is_date(sort: CodeSort) -> bool {
    matches!(sort, CodeSort::Newest | CodeSort::ExpiresAt)
}

/// The MongoDB sort of `sort`: its field, then `_id`, in the same direction.
pub fn sort_doc(sort: CodeSort) -> Document {
    let (field, dir) = sort.key();
    doc! { field: dir, "_id": dir }
}

/// The query string of `GET /codes` (and, without `seller`, of `GET /seller/codes`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CodeQuery {
    pub sport: Option<Sport>,
    pub bookmaker: Option<String>,
    /// Decimal odds, inclusive.
    pub min_odds: Option<f64>,
    pub max_odds: Option<f64>,
    /// Minor units, inclusive.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Default ACTIVE (buyable now).
    pub status: Option<CodeStatus>,
    /// A seller's user id.
    pub seller: Option<String>,
    /// newest (default), price, -price, odds, -odds, expiresAt.
    pub sort: Option<CodeSort>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page, with the same sort.
    pub cursor: Option<String>,
}

/// A position in a sorted list: the last item's sort key and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: ObjectId,
}

pub fn encode_cursor(sort: CodeSort, c: Cursor) -> String {
    hex::encode(format!("{}:{}:{}", sort_tag(sort), c.key, c.id.to_hex()))
}

pub fn decode_cursor(sort: CodeSort, raw: &str) -> Result<Cursor, AppError> {
    let bad = || {
        AppError::validation(
            "cursor is not one this server issued for this sort",
            "cursor",
            "invalid",
        )
    };
    let bytes = hex::decode(raw).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, ':');
    let (tag, key, id) = (parts.next(), parts.next(), parts.next());
    if tag != Some(sort_tag(sort)) {
        return Err(bad());
    }
    let key = key.and_then(|k| k.parse::<i64>().ok()).ok_or_else(bad)?;
    let id = id
        .and_then(|i| ObjectId::parse_str(i).ok())
        .ok_or_else(bad)?;
    Ok(Cursor { key, id })
}

/// The sort key of a stored code, as a cursor holds it.
pub fn cursor_of(sort: CodeSort, code: &super::store::Code) -> Cursor {
    let key = match sort {
        CodeSort::Newest => code.created_at.timestamp_millis(),
        CodeSort::ExpiresAt => code.listing.expires_at.timestamp_millis(),
        CodeSort::Price | CodeSort::PriceDesc => code.listing.price,
        CodeSort::Odds | CodeSort::OddsDesc => code.listing.odds,
    };
    Cursor { key, id: code.id }
}

/// A checked query, ready to become a MongoDB filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Browse {
    pub sport: Option<Sport>,
    pub bookmaker: Option<String>,
    pub odds: (Option<i64>, Option<i64>),
    pub price: (Option<i64>, Option<i64>),
    pub status: Option<CodeStatus>,
    pub seller: Option<ObjectId>,
    pub sort: CodeSort,
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl Browse {
    /// `default_status` is ACTIVE for the public marketplace and `None` (every status) for a seller's own list.
    pub fn parse(
        q: &CodeQuery,
        default_status: Option<CodeStatus>,
        bookmakers: &[String],
    ) -> Result<Browse, AppError> {
        let limit = crate::http::PageQuery {
            limit: q.limit,
            cursor: None,
        }
        .limit()?;
        let sort = q.sort.unwrap_or_default();
        let invalid = |field: &str, problem: &str| {
            AppError::validation(format!("{field} {problem}"), field, problem)
        };
        let min_odds = q
            .min_odds
            .map(|o| {
                rules::odds_bound(o, true)
                    .ok_or_else(|| invalid("minOdds", "must be a positive number"))
            })
            .transpose()?;
        let max_odds = q
            .max_odds
            .map(|o| {
                rules::odds_bound(o, false)
                    .ok_or_else(|| invalid("maxOdds", "must be a positive number"))
            })
            .transpose()?;
        if let (Some(a), Some(b)) = (q.min_price, q.max_price) {
            if a > b {
                return Err(invalid("minPrice", "must not exceed maxPrice"));
            }
        }
        if q.min_odds.is_some() && q.max_odds.is_some() && q.min_odds > q.max_odds {
            return Err(invalid("minOdds", "must not exceed maxOdds"));
        }
        let seller = match &q.seller {
            None => None,
            Some(s) => {
                Some(ObjectId::parse_str(s).map_err(|_| invalid("seller", "must be a user id"))?)
            }
        };
        // A bookmaker outside the list matches nothing; the configured spelling matches any case.
        let bookmaker = q.bookmaker.as_ref().map(|b| {
            bookmakers
                .iter()
                .find(|k| k.eq_ignore_ascii_case(b.trim()))
                .cloned()
                .unwrap_or_else(|| b.trim().to_owned())
        });
        let after = q
            .cursor
            .as_deref()
            .map(|c| decode_cursor(sort, c))
            .transpose()?;
        Ok(Browse {
            sport: q.sport,
            bookmaker,
            odds: (min_odds, max_odds),
            price: (q.min_price, q.max_price),
            status: q.status.or(default_status),
            seller,
            sort,
            limit,
            after,
        })
    }

    /// The MongoDB filter: equality fields first (`seller`, `status`, `sport`), ranges after, then
    /// the keyset condition. ACTIVE and SOLD_OUT mean "and not yet expired"; AWAITING_RESULT also
    /// takes codes whose label the worker has not moved yet.
    pub fn filter(&self, now: DateTime) -> Document {
        let mut f = Document::new();
        let mut and: Vec<Document> = vec![];
        if let Some(s) = self.seller {
            f.insert("seller", s);
        }
        match self.status {
            Some(st @ (CodeStatus::Active | CodeStatus::SoldOut)) => {
                f.insert("status", st.as_str());
                f.insert("expiresAt", doc! { "$gt": now });
            }
            Some(CodeStatus::AwaitingResult) => and.push(doc! { "$or": [
                { "status": CodeStatus::AwaitingResult.as_str() },
                { "status": { "$in": [CodeStatus::Active.as_str(), CodeStatus::SoldOut.as_str()] }, "expiresAt": { "$lte": now } },
            ] }),
            Some(st) => {
                f.insert("status", st.as_str());
            }
            None => {}
        }
        if let Some(s) = self.sport {
            f.insert("sport", s.as_str());
        }
        if let Some(b) = &self.bookmaker {
            f.insert("bookmaker", b);
        }
        if let Some(r) = range(self.odds) {
            f.insert("odds", r);
        }
        if let Some(r) = range(self.price) {
            f.insert("price", r);
        }
        if let Some(c) = self.after {
            let (field, dir) = self.sort.key();
            let op = if dir > 0 { "$gt" } else { "$lt" };
            let key: Bson = if sort_is_date(self.sort) {
                Bson::DateTime(DateTime::from_millis(c.key))
            } else {
                Bson::Int64(c.key)
            };
            and.push(doc! { "$or": [ { field: { op: key.clone() } }, { field: key, "_id": { op: c.id } } ] });
        }
        match and.len() {
            0 => {}
            1 => f.extend(and.remove(0)),
            _ => {
                f.insert("$and", and);
            }
        }
        f
    }

    /// The same filter as `filter`, evaluated in memory over a stored code (the market cache).
    pub fn matches(&self, c: &super::store::Code, now: DateTime) -> bool {
        let l = &c.listing;
        let status_ok = match self.status {
            Some(st @ (CodeStatus::Active | CodeStatus::SoldOut)) => {
                c.status == st && l.expires_at > now
            }
            Some(CodeStatus::AwaitingResult) => {
                c.status == CodeStatus::AwaitingResult
                    || (matches!(c.status, CodeStatus::Active | CodeStatus::SoldOut)
                        && l.expires_at <= now)
            }
            Some(st) => c.status == st,
            None => true,
        };
        let within = |v: i64, (min, max): (Option<i64>, Option<i64>)| {
            min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
        };
        status_ok
            && self.seller.is_none_or(|s| c.seller == s)
            && self.sport.is_none_or(|s| l.sport == s)
            && self.bookmaker.as_ref().is_none_or(|b| &l.bookmaker == b)
            && within(l.odds, self.odds)
            && within(l.price, self.price)
            && self.after.is_none_or(|after| {
                let k = cursor_of(self.sort, c);
                let ord = (k.key, k.id).cmp(&(after.key, after.id));
                if self.sort.key().1 > 0 {
                    ord == std::cmp::Ordering::Greater
                } else {
                    ord == std::cmp::Ordering::Less
                }
            })
    }

    /// The sort of `sort_doc`, in memory.
    pub fn order(&self, a: &super::store::Code, b: &super::store::Code) -> std::cmp::Ordering {
        let (ka, kb) = (cursor_of(self.sort, a), cursor_of(self.sort, b));
        let ord = (ka.key, ka.id).cmp(&(kb.key, kb.id));
        if self.sort.key().1 > 0 {
            ord
        } else {
            ord.reverse()
        }
    }

    /// The index of `db::INDEXES` that serves this shape on MongoDB (equality, sort, range rule).
    pub fn index(&self) -> Vec<(&'static str, i32)> {
        index_for(
            self.seller.is_some(),
            self.sport.is_some(),
            self.status.is_some(),
            self.sort,
        )
    }
}

fn range((min, max): (Option<i64>, Option<i64>)) -> Option<Document> {
    let mut r = Document::new();
    if let Some(a) = min {
        r.insert("$gte", a);
    }
    if let Some(b) = max {
        r.insert("$lte", b);
    }
    (!r.is_empty()).then_some(r)
}

/// Equality fields, then the sort key, then `_id`, all ascending except a descending date sort.
pub fn index_for(
    seller: bool,
    sport: bool,
    status: bool,
    sort: CodeSort,
) -> Vec<(&'static str, i32)> {
    let (field, dir) = sort.key();
    // An ascending index also serves the descending sort, walked backwards.
    let dir = if field == "createdAt" { -1 } else { dir.abs() };
    let mut keys = vec![];
    if seller {
        keys.push(("seller", 1));
        if status {
            keys.push(("status", 1));
        }
    } else {
        keys.push(("status", 1));
        if sport {
            keys.push(("sport", 1));
        }
    }
    keys.push((field, dir));
    keys.push(("_id", dir));
    keys
}

/// True when `db::INDEXES` declares exactly these keys on `bettingcodes`.
pub fn declared(keys: &[(&str, i32)]) -> bool {
    INDEXES.iter().any(|(col, k, _)| {
        *col == "bettingcodes" && k.len() == keys.len() && k.iter().zip(keys).all(|(a, b)| a == b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn books() -> Vec<String> {
        vec!["SportyBet".into(), "Betway".into()]
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_sort() {
        let c = Cursor {
            key: 1_700_000_000_123,
            id: ObjectId::new(),
        };
        for s in CodeSort::ALL {
            let raw = encode_cursor(s, c);
            assert_eq!(decode_cursor(s, &raw).expect("decode"), c);
        }
        let raw = encode_cursor(CodeSort::Price, c);
        assert!(decode_cursor(CodeSort::Newest, &raw).is_err());
        for bad in [
            "",
            "zz",
            "6e3a",
            &hex::encode("n:abc:123"),
            &hex::encode("n:12"),
        ] {
            assert!(decode_cursor(CodeSort::Newest, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_browse_is_buyable_codes_newest_first() {
        let b = Browse::parse(&CodeQuery::default(), Some(CodeStatus::Active), &books())
            .expect("parse");
        let now = DateTime::from_millis(1_000);
        assert_eq!(
            b.filter(now),
            doc! { "status": "ACTIVE", "expiresAt": { "$gt": now } }
        );
        assert_eq!(sort_doc(b.sort), doc! { "createdAt": -1, "_id": -1 });
        assert_eq!(b.limit, 20);
    }

    #[test]
    fn filters_and_a_cursor_combine() {
        let id = ObjectId::new();
        let q = CodeQuery {
            sport: Some(Sport::Tennis),
            bookmaker: Some("betway".into()),
            min_odds: Some(1.5),
            max_odds: Some(3.0),
            min_price: Some(100),
            sort: Some(CodeSort::PriceDesc),
            cursor: Some(encode_cursor(CodeSort::PriceDesc, Cursor { key: 900, id })),
            ..Default::default()
        };
        let b = Browse::parse(&q, Some(CodeStatus::Active), &books()).expect("parse");
        let now = DateTime::from_millis(5);
        let f = b.filter(now);
        assert_eq!(f.get_str("bookmaker").expect("bookmaker"), "Betway");
        assert_eq!(
            f.get_document("odds").expect("odds"),
            &doc! { "$gte": 150i64, "$lte": 300i64 }
        );
        assert_eq!(
            f.get_document("price").expect("price"),
            &doc! { "$gte": 100i64 }
        );
        assert_eq!(f.get_array("$or").expect("keyset").len(), 2);
        assert_eq!(
            b.index(),
            vec![("status", 1), ("sport", 1), ("price", 1), ("_id", 1)]
        );
    }

    #[test]
    fn bad_filters_are_validation_errors() {
        let cases = [
            CodeQuery {
                seller: Some("nope".into()),
                ..Default::default()
            },
            CodeQuery {
                min_price: Some(10),
                max_price: Some(5),
                ..Default::default()
            },
            CodeQuery {
                min_odds: Some(3.0),
                max_odds: Some(2.0),
                ..Default::default()
            },
            CodeQuery {
                min_odds: Some(-1.0),
                ..Default::default()
            },
            CodeQuery {
                limit: Some(101),
                ..Default::default()
            },
            CodeQuery {
                cursor: Some("garbage".into()),
                ..Default::default()
            },
        ];
        for q in cases {
            assert!(
                matches!(
                    Browse::parse(&q, None, &books()),
                    Err(AppError::Validation { .. })
                ),
                "{q:?}"
            );
        }
    }

    #[test]
    fn every_query_shape_has_a_declared_index() {
        for seller in [false, true] {
            for sport in [false, true] {
                for status in [false, true] {
                    for sort in CodeSort::ALL {
                        if !status && (!seller || sort != CodeSort::Newest) {
                            continue; // the public list always filters by status; a seller's own list sorts newest first
                        }
                        let keys = index_for(seller, sport, status, sort);
                        assert!(declared(&keys), "no index {keys:?}");
                    }
                }
            }
        }
    }
}
