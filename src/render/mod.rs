//! Rendering: the HTML environment, teacher Markdown, typeset PDFs and
//! the statement statistics shared by pages and documents.

pub mod html;
pub mod markdown;
pub mod pdf;
pub mod stats;
