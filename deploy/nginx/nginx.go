// Package nginx holds the gateway's configuration files, embedded so that a mint command can run a
// gateway of its own (mint chaos) from the very files make stack and compose use.
package nginx

import "embed"

// Files are the *.conf files of this folder: http.conf (http-level settings and the rate limit),
// routes.conf (the server's locations), and the headers and upstreams they include.
//
//go:embed *.conf
var Files embed.FS
