//! The YAML limit: parsers that only produce events (no tree, no deserialization). Three are
//! measured; `yaml` in main.rs uses the fastest on the generated snapshots.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use crate::Parsed;

/// libyaml (the C parser, translated to Rust by `unsafe-libyaml`; serde_yaml used it).
pub fn libyaml(bytes: &[u8]) -> Result<Parsed, String> {
    use unsafe_libyaml as unsafe_yaml;
    let mut parser = MaybeUninit::<unsafe_yaml::yaml_parser_t>::uninit();
    let mut event = MaybeUninit::<unsafe_yaml::yaml_event_t>::uninit();
    // SAFETY: the parser is initialized before use and deleted once; `bytes` outlives it; each
    // event is deleted after it is read, as libyaml's API requires.
    unsafe {
        if !unsafe_yaml::yaml_parser_initialize(parser.as_mut_ptr()).ok {
            return Err("libyaml: cannot initialize the parser".to_string());
        }
        let parser = parser.as_mut_ptr();
        unsafe_yaml::yaml_parser_set_input_string(parser, bytes.as_ptr(), bytes.len() as _);
        let mut events = 0u64;
        let result = loop {
            if !unsafe_yaml::yaml_parser_parse(parser, event.as_mut_ptr()).ok {
                let state = &*parser;
                let problem = state.problem;
                let problem = if problem.is_null() {
                    "unknown error".into()
                } else {
                    CStr::from_ptr(problem).to_string_lossy()
                };
                let mark = state.problem_mark;
                break Err(format!(
                    "libyaml: {problem} at line {} column {}",
                    mark.line + 1,
                    mark.column + 1
                ));
            }
            events += 1;
            let end = (*event.as_ptr()).type_ == unsafe_yaml::YAML_STREAM_END_EVENT;
            unsafe_yaml::yaml_event_delete(event.as_mut_ptr());
            if end {
                break Ok(Parsed {
                    parser: "libyaml (unsafe-libyaml)",
                    events,
                });
            }
        };
        unsafe_yaml::yaml_parser_delete(parser);
        result
    }
}

/// libyaml-safer: the same C parser, rewritten in safe Rust.
pub fn libyaml_safer(bytes: &[u8]) -> Result<Parsed, String> {
    let mut input = bytes;
    let mut parser = libyaml_safer::Parser::new();
    parser.set_input_string(&mut input);
    let mut events = 0u64;
    for event in parser {
        event.map_err(|e| format!("libyaml-safer: {e}"))?;
        events += 1;
    }
    Ok(Parsed {
        parser: "libyaml-safer",
        events,
    })
}

/// saphyr-parser: the YAML 1.2 parser serde-saphyr (rounds' reader) is built on.
pub fn saphyr(text: &str) -> Result<Parsed, String> {
    struct Count(u64);
    impl<'input> saphyr_parser::SpannedEventReceiver<'input> for Count {
        fn on_event(&mut self, _: saphyr_parser::Event<'input>, _: saphyr_parser::Span) {
            self.0 += 1;
        }
    }
    let mut count = Count(0);
    saphyr_parser::Parser::new_from_str(text)
        .load(&mut count, true)
        .map_err(|e| format!("saphyr-parser: {e}"))?;
    Ok(Parsed {
        parser: "saphyr-parser",
        events: count.0,
    })
}
