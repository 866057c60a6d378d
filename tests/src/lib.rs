//! Helpers shared by qwire's integration tests: finding `../shared`,
//! loading the corpus, and comparing JSON values.
