package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const probeHead = `Usage: mint probe [flags]

Asks --url with GET and exits 0 when it answers 2xx, 1 otherwise: a container's health check in an
image without curl (e.g. --url http://127.0.0.1:4001/ready).
`

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("mint probe", probeHead, stdout, stderr)
	var target string
	var timeout time.Duration
	c.fs.String(&target, "url", "MINT_PROBE_URL", "http://127.0.0.1:8080/health", "the URL to ask (http or https)")
	c.fs.Duration(&timeout, "timeout", "MINT_PROBE_TIMEOUT", 3*time.Second, "how long to wait for the answer")
	if err := c.parse(args); err != nil {
		return err
	}
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.usageError("url %q: want http://host:port/path", target)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return c.failed(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return c.failed(err)
	}
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return c.failed(fmt.Errorf("%s answered %s", target, res.Status))
	}
	return nil
}
