// Package backoff computes the wait before the next try of something that failed: the same doubling,
// capped schedule for message redelivery, outbox relays, mail retries and saga re-drives.
package backoff

import "time"

// Doubling is the wait after the attempt-th failure (1-based): base·2^(attempt-1), capped at ceiling.
// A base of zero or less waits nothing.
func Doubling(base, ceiling time.Duration, attempt int) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}
