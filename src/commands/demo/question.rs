//! The demo's library question, *Rate limiter*: a token bucket driven by the request times on
//! stdin, with three visible and three hidden test cases and a reference solution, so Run,
//! Run tests and automatic grading can be tried at once.

use crate::db::cases::TestCase;

pub const TITLE: &str = "Rate limiter";

pub const PROMPT: &str = r#"## The task

Our API lets each customer make **10 requests per second**, with bursts of up to **20**.
Implement the limiter as a *token bucket*:

- the bucket holds at most `burst` tokens and starts full;
- it gains `rate` tokens per second, continuously (fractions count);
- a request takes one token and is **allowed**, or is **denied** when less than one token is left.

## Input and output

The first line holds `rate` and `burst`, the second the number of requests `n`, then `n`
lines give each request's time in seconds (never decreasing). Print one line per request:
`allowed` or `denied`.

```text
10 2          allowed
5             allowed
0             denied
0             allowed
0             denied
0.15
0.15
```

The starter code reads the input and prints the answers: complete `TokenBucket.allow`.
*Run tests* checks the visible cases; more are hidden and count towards your score.
"#;

pub const STARTER: &str = r#"import sys


class TokenBucket:
    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst

    def allow(self, now: float) -> bool:
        """Takes a token at time `now` (in seconds) if at least one is left."""
        raise NotImplementedError


def main() -> None:
    words = sys.stdin.read().split()
    rate, burst, n = float(words[0]), int(words[1]), int(words[2])
    bucket = TokenBucket(rate, burst)
    for t in words[3:3 + n]:
        print("allowed" if bucket.allow(float(t)) else "denied")


if __name__ == "__main__":
    main()
"#;

pub const SOLUTION: &str = r#"import sys


class TokenBucket:
    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.last = None

    def allow(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def main() -> None:
    words = sys.stdin.read().split()
    rate, burst, n = float(words[0]), int(words[1]), int(words[2])
    bucket = TokenBucket(rate, burst)
    for t in words[3:3 + n]:
        print("allowed" if bucket.allow(float(t)) else "denied")


if __name__ == "__main__":
    main()
"#;

struct DemoCase {
    input: &'static str,
    expected: &'static str,
    hidden: bool,
    weight: i32,
}

const CASES: &[DemoCase] = &[
    DemoCase {
        input: "10 20\n21\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n0\n",
        expected: "allowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\ndenied\n",
        hidden: false,
        weight: 1,
    },
    DemoCase {
        input: "10 2\n5\n0\n0\n0\n0.15\n0.15\n",
        expected: "allowed\nallowed\ndenied\nallowed\ndenied\n",
        hidden: false,
        weight: 1,
    },
    DemoCase {
        input: "1 3\n7\n0\n0\n0\n100\n100\n100\n100\n",
        expected: "allowed\nallowed\nallowed\nallowed\nallowed\nallowed\ndenied\n",
        hidden: false,
        weight: 1,
    },
    DemoCase {
        input: "0.5 1\n5\n0\n1\n2\n3.5\n4\n",
        expected: "allowed\ndenied\nallowed\ndenied\nallowed\n",
        hidden: true,
        weight: 2,
    },
    DemoCase {
        input: "8 4\n40\n0.0000\n0.0625\n0.1250\n0.1875\n0.2500\n0.3125\n0.3750\n0.4375\n0.5000\n0.5625\n0.6250\n0.6875\n0.7500\n0.8125\n0.8750\n0.9375\n1.0000\n1.0625\n1.1250\n1.1875\n1.2500\n1.3125\n1.3750\n1.4375\n1.5000\n1.5625\n1.6250\n1.6875\n1.7500\n1.8125\n1.8750\n1.9375\n2.0000\n2.0625\n2.1250\n2.1875\n2.2500\n2.3125\n2.3750\n2.4375\n",
        expected: "allowed\nallowed\nallowed\nallowed\nallowed\nallowed\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\nallowed\ndenied\n",
        hidden: true,
        weight: 2,
    },
    DemoCase {
        input: "5 5\n0\n",
        expected: "",
        hidden: true,
        weight: 1,
    },
];

/// The question's test cases.
pub fn cases() -> Vec<TestCase> {
    CASES
        .iter()
        .enumerate()
        .map(|(n, case)| TestCase {
            position: n as i32 + 1,
            input: case.input.to_owned(),
            expected: case.expected.to_owned(),
            weight: case.weight,
            hidden: case.hidden,
            time_limit_ms: None,
        })
        .collect()
}
