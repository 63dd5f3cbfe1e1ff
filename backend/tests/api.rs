//! Backend integration tests (the crate's one test binary): the router in-process
//! (`tower::ServiceExt::oneshot`) on a real SQLite file, plus real-socket tests on
//! port 0. Modules hold the areas; `support` holds the `TestApp`; `tablet` has the
//! bad-input table and its `check` helper.

#[path = "api/accounts.rs"]
mod accounts;
#[path = "api/audit.rs"]
mod audit;
#[path = "api/browser.rs"]
mod browser;
#[path = "api/checkin.rs"]
mod checkin;
#[path = "api/corrections.rs"]
mod corrections;
#[path = "api/dashboard.rs"]
mod dashboard;
#[path = "api/disaster.rs"]
mod disaster;
#[path = "api/escalation.rs"]
mod escalation;
#[path = "api/household.rs"]
mod household;
#[path = "api/memory.rs"]
mod memory;
#[path = "api/news.rs"]
mod news;
#[path = "api/notify.rs"]
mod notify;
#[path = "api/office_pages.rs"]
mod office_pages;
#[path = "api/residents.rs"]
mod residents;
#[path = "api/socket.rs"]
mod socket;
#[path = "api/support.rs"]
mod support;
#[path = "api/tablet.rs"]
mod tablet;
#[path = "api/weather.rs"]
mod weather;
