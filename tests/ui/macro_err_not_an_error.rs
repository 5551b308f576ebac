// `err = ..` in a level macro with a value that is no error: one error
// saying what `err` takes and how to log the value as a field instead.

fn main() {
    let code = 42;
    loglayer::error!(err = &code, "not an error");
}
