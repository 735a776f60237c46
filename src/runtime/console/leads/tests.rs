//! The leads table's paging, searches and filters, on a real SQLite file.

use super::*;
use crate::store::{fixtures, params};

/// A store with leads `a`..`g`, several changed at the same instant.
fn store(dir: &tempfile::TempDir) -> Store {
    let store = Store::open(dir.path().join("flowc.db")).expect("a store");
    for (id, at) in [
        ("a", 5),
        ("b", 3),
        ("c", 3),
        ("d", 9),
        ("e", 3),
        ("f", 1),
        ("g", 9),
    ] {
        store
            .execute(
                "INSERT INTO leads (id, fields, updated_at, email) VALUES (?1, '{}', ?2, ?3)",
                params![id, at, format!("{id}@example.com")],
            )
            .expect("a lead");
    }
    store
}

/// Every page of `sort`, walked forward to the end and back again.
fn walk(store: &mut Store, sort: Sort) -> (Vec<String>, Vec<String>) {
    // Two a page: pages end between leads changed at the same instant.
    let mut query = Query {
        sort,
        size: 2,
        ..Query::default()
    };
    let mut forward = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = page(store, &query).expect("a page");
        assert_eq!(page.total, 7);
        forward.extend(page.rows.iter().map(|row| row.id.clone()));
        pages.push(page.previous.clone());
        match page.next {
            Some(next) => query.page = Cursor::After(next),
            None => break,
        }
    }
    // Back from the last page, one page at a time.
    let mut backward = Vec::new();
    let last = page(store, &query).expect("the last page");
    backward.extend(last.rows.iter().rev().map(|row| row.id.clone()));
    let mut previous = last.previous;
    while let Some(key) = previous {
        query.page = Cursor::Before(key);
        let page = page(store, &query).expect("a page");
        backward.extend(page.rows.iter().rev().map(|row| row.id.clone()));
        previous = page.previous;
    }
    backward.reverse();
    (forward, backward)
}

#[test]
fn paging_visits_every_lead_once_in_order_both_ways() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut store = store(&dir);
    for (sort, expected) in [
        (Sort::Recent, ["g", "d", "a", "e", "c", "b", "f"]),
        (Sort::Oldest, ["f", "b", "c", "e", "a", "d", "g"]),
        (Sort::Id, ["a", "b", "c", "d", "e", "f", "g"]),
        (Sort::IdDescending, ["g", "f", "e", "d", "c", "b", "a"]),
    ] {
        let (forward, backward) = walk(&mut store, sort);
        assert_eq!(forward, expected, "{sort:?} forward");
        assert_eq!(backward, expected, "{sort:?} back");
    }
}

#[test]
fn searches_find_by_email_and_id_prefix() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut store = store(&dir);
    let mut find = |search: &str| {
        let query = Query {
            search: Some(search.to_owned()),
            size: 10,
            ..Query::default()
        };
        page(&mut store, &query)
            .expect("a page")
            .rows
            .into_iter()
            .map(|row| row.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("D@Example.com"), ["d"]);
    assert_eq!(find("c"), ["c"]);
    assert!(find("zz").is_empty());
}

#[test]
fn opted_out_means_the_newest_consent_of_an_address() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut store = store(&dir);
    let consent = |store: &Store, address: &str, state: &str| {
        store
            .execute(
                "INSERT INTO consent (channel, address, state, source, at) VALUES ('email', ?1, ?2, 'test', 0)",
                params![address, state],
            )
            .expect("a consent change");
    };
    consent(&store, "b@example.com", "opted-out");
    consent(&store, "c@example.com", "unsubscribed");
    consent(&store, "c@example.com", "opted-in");
    consent(&store, "e@example.com", "undeliverable");
    let query = Query {
        opted_out: true,
        sort: Sort::Id,
        size: 10,
        ..Query::default()
    };
    let found = page(&mut store, &query).expect("a page");
    let ids: Vec<&str> = found.rows.iter().map(|row| row.id.as_str()).collect();
    assert_eq!(ids, ["b", "e"]);
    assert_eq!((found.total, found.more), (2, false));
}

/// Each status filter finds the leads with an enrollment in that
/// status; those with entries in the status index (every status but
/// `active` and `waiting`) are found through it, not by walking the
/// enrollments.
#[test]
fn status_filters_find_their_leads_through_the_index() {
    let dir = tempfile::tempdir().expect("a folder");
    let mut store = store(&dir);
    store
        .execute(fixtures::WORKFLOW, params![])
        .expect("a workflow");
    let statuses = ["active", "waiting", "held", "completed", "exited", "failed"];
    for (lead, status) in ["a", "b", "c", "d", "e", "f"].iter().zip(statuses) {
        store
            .execute(fixtures::ENROLLMENT, params![*lead, status])
            .expect("an enrollment");
    }
    for (lead, status) in ["a", "b", "c", "d", "e", "f"].iter().zip(statuses) {
        let query = Query {
            status: Some(status.to_owned()),
            sort: Sort::Id,
            ..Query::default()
        };
        let found = page(&mut store, &query).expect("a page");
        let ids: Vec<&str> = found.rows.iter().map(|row| row.id.as_str()).collect();
        assert_eq!(ids, [*lead], "{status}");
        let mut conditions = Conditions::default();
        filter(&store, &query, &mut conditions).expect("the filter");
        let sql = format!("SELECT l.id FROM leads l {}", conditions.clause());
        let plan = fixtures::plan(&store, &sql, &conditions.params);
        let indexed = plan
            .iter()
            .any(|step| step.contains("INDEX enrollments_status"));
        assert_eq!(
            indexed,
            !matches!(status, "active" | "waiting"),
            "{status}: {plan:#?}"
        );
    }
}
