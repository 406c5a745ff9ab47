// `sqlx::migrate!` embeds the migrations folder at compile time; without this line a new
// migration file would not rebuild the crate, and an older binary would miss it.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
