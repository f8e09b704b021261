//! The server-rendered pages, in Chinese, without scripts (but for the police pages' one
//! offline script): the tenant's scan page, the public tip page, the sublandlord's portal,
//! the officer's queue and the staff console.
//! Every page that needs a login takes the cookie session through `session::PageCaller`.

pub mod assets;
pub mod console;
pub mod enforcement;
pub mod me;
pub mod offline;
pub mod person_form;
pub mod police;
pub mod portal;
pub mod scan;
pub mod session;
pub mod tip;
pub mod visit;
pub mod walk;
