//! Events other modules put on spans: a retry is recorded on the span it happens under (the
//! caller's current span for `resilience.retry`, the request's client span for the http
//! client), so a trace shows why a call took three attempts and how long it waited between them.

use std::rc::Rc;
use std::time::Duration;

use cn_runtime::object::NativeObject;
use cn_runtime::Vm;

use super::current;
use super::span::{AttrValue, Span};

/// The running task's current span, kept only when it records (so callers that hold it pay
/// nothing when nothing is exported).
pub struct RecordingSpan(Rc<NativeObject>);

impl RecordingSpan {
    /// The current span of the running task, if there is one and it records.
    pub fn current(vm: &Vm) -> Option<RecordingSpan> {
        let object = current::span_object(&vm.current_task()?.context.borrow())?;
        let recording = object.downcast::<Span>()?.is_recording();
        recording.then_some(RecordingSpan(object))
    }

    /// Records a `retry` event: attempt `attempt` ended with `reason` and the next one starts
    /// after `delay`, under the policy `policy`.
    pub fn retry(&self, policy: &str, attempt: u32, reason: &str, delay: Duration) {
        if let Some(span) = self.0.downcast::<Span>() {
            span.with_recording(|recording| {
                recording.add_event("retry", retry_attributes(policy, attempt, reason, delay));
            });
        }
    }
}

/// The attributes of a `retry` event.
pub(super) fn retry_attributes(
    policy: &str,
    attempt: u32,
    reason: &str,
    delay: Duration,
) -> Vec<(super::span::AttrKey, AttrValue)> {
    vec![
        ("retry.policy".into(), AttrValue::Str(policy.to_string())),
        ("retry.attempt".into(), AttrValue::Int(attempt.into())),
        ("retry.reason".into(), AttrValue::Str(reason.to_string())),
        (
            "retry.delay_ms".into(),
            AttrValue::Int(delay.as_millis().min(i64::MAX as u128) as i64),
        ),
    ]
}
