package server

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"
)

func TestRenderCacheIsBoundedInBytes(t *testing.T) {
	const maxBytes = 4 << 20
	c := newRenderCache(1000, maxBytes)
	renders := 0
	render := func(n int) func() (*rendered, error) {
		return func() (*rendered, error) {
			renders++
			body := make([]byte, n)
			_, _ = rand.Read(body) // incompressible: gz as large as plain
			return newRendered(body, "text/html", "no-cache", time.Time{})
		}
	}
	for i := range 40 {
		if _, err := c.get(fmt.Sprintf("/posts/%d", i), "e", render(100_000)); err != nil {
			t.Fatal(err)
		}
		if c.bytes > maxBytes {
			t.Fatalf("after %d entries the cache holds %d bytes, more than %d", i+1, c.bytes, maxBytes)
		}
	}
	var sum int64
	for _, e := range c.entries {
		sum += e.size()
	}
	if sum != c.bytes {
		t.Errorf("accounted %d bytes, entries hold %d", c.bytes, sum)
	}
	if len(c.entries) == 0 || len(c.entries) == 40 {
		t.Errorf("%d entries kept: want some evicted, some kept", len(c.entries))
	}

	// A body larger than a sixteenth of the cache is served, never kept.
	renders = 0
	for range 3 {
		r, err := c.get("/posts/huge", "e", render(maxBytes/16))
		if err != nil || len(r.plain) != maxBytes/16 {
			t.Fatalf("huge entry: %v", err)
		}
	}
	if renders != 3 {
		t.Errorf("huge entry rendered %d times for 3 requests, want 3 (not cached)", renders)
	}

	// Replacing an entry (new etag) does not count it twice.
	before := c.bytes
	if _, err := c.get("/posts/39", "e2", render(100_000)); err != nil {
		t.Fatal(err)
	}
	if c.bytes > before+1000 {
		t.Errorf("replacing an entry grew the cache from %d to %d bytes", before, c.bytes)
	}
}
