// `log!` takes a level word (trace … fatal) or a `Level` expression; an
// unknown word is an error on that word.

fn main() {
    loglayer::log!(loud, "hello");
}
