//! The gradebook: model types, the snapshot loader, small lookups by key
//! and bulk writes.

pub mod bulk;
pub mod changes;
pub mod legend;
pub mod lookup;
pub mod model;
mod native;
pub mod rounding;
pub mod snapshot;

pub use model::*;
pub use rounding::Rounding;
pub use snapshot::{
    SchoolRef, Snapshot, YearChoice, list_schools, load, load_through_pool, school_years,
};
