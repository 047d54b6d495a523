//! Generates the client from the OpenAPI fragment into `OUT_DIR`: the
//! whole script is `rhombus_partner_codegen::build_script`, in the
//! generator's crate, so that this one compiles at no cost.

fn main() {
    rhombus_partner_codegen::build_script::main();
}
