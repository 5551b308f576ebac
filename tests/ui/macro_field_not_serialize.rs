// A level-macro field whose value is not `Serialize`: one error on the value,
// with a note naming the `?` (Debug) and `%` (Display) forms.

struct Opaque;

fn main() {
    let opaque = Opaque;
    loglayer::info!(thing = opaque, "logged");
}
