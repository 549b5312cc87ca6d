//! The one integration-test binary: each file is an area of the product.

mod helpers;

mod foundation;
mod health;
mod lever_sim;
