//! libxmlsec1 reports every failed check (say, an SP's request whose signature does not
//! match) on standard error by itself, beside our log lines: with JSON logs, a line that is not
//! JSON for a collector to choke on. Its reports go to our log instead, at debug level; the
//! refusal itself is answered and logged where it is decided.

use std::borrow::Cow;
use std::ffi::{CStr, c_char, c_int};

/// libxmlsec1's `xmlSecErrorsCallback` (xmlsec/errors.h).
type Callback = unsafe extern "C" fn(
    file: *const c_char,
    line: c_int,
    func: *const c_char,
    error_object: *const c_char,
    error_subject: *const c_char,
    reason: c_int,
    msg: *const c_char,
);

unsafe extern "C" {
    fn xmlSecErrorsSetCallback(callback: Option<Callback>);
    fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: c_int);
}

/// A C string from libxmlsec1, or nothing for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that lives for the call.
unsafe fn text<'a>(p: *const c_char) -> Cow<'a, str> {
    if p.is_null() { Cow::Borrowed("") } else { unsafe { CStr::from_ptr(p) }.to_string_lossy() }
}

unsafe extern "C" fn to_log(
    _file: *const c_char,
    _line: c_int,
    func: *const c_char,
    error_object: *const c_char,
    _error_subject: *const c_char,
    reason: c_int,
    msg: *const c_char,
) {
    // SAFETY: libxmlsec1 passes null or NUL-terminated strings valid during the callback.
    let (func, object, msg) = unsafe { (text(func), text(error_object), text(msg)) };
    tracing::debug!(%func, %object, reason, %msg, "xmlsec");
}

/// Sends libxmlsec1's reports to the log (once per process; later calls do nothing).
pub fn route_to_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: sets a process-wide function pointer to a function that only reads its
    // arguments; done once, before any signature is checked by this state.
    ONCE.call_once(|| unsafe {
        xmlSecErrorsSetCallback(Some(to_log));
        // Should a library initialisation put the default callback back, it stays silent.
        xmlSecErrorsDefaultCallbackEnableOutput(0);
    });
}
