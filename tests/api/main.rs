//! The one integration-test binary: each file is an area of the product.

mod helpers;

mod foundation;
mod health;
mod integration;
mod lever_sim;
mod lever_world;
