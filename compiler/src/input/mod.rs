//! Reading manifests: files, folders, stdin, multi-document YAML, JSON and `kind: List`,
//! into position-carrying trees so every later error can name its file and line.

pub mod load;
pub mod yaml;

pub use load::{Document, load_inputs, load_inputs_each, load_inputs_with, load_texts};
pub use yaml::{Key, Node, Value, parse_documents, parse_documents_each};
