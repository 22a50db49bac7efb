//! Rendering: the HTML environment, teacher Markdown, interface words and
//! the statement statistics shared by pages and documents.

pub mod html;
pub mod i18n;
pub mod markdown;
pub mod pdf;
pub mod stats;
