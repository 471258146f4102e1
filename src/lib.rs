pub mod cert;
pub mod signature;
pub mod trust;
pub mod rules;
