//go:build ignore

// Command dashboards writes Grafana's dashboards for Mint, one JSON file each, into
// provisioning/dashboards/ (run from this folder: go run dashboards.go). The panels are declared here,
// so every query is in one readable list; test/e2e checks that the files are what this writes and
// that every query has data on a running stack.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// panel is one graph, stat or logs panel.
type panel struct {
	title string
	kind  string // "timeseries", "stat" or "logs"
	unit  string // Grafana's unit id: "s", "percentunit", "bytes", "reqps", "short"…
	exprs []query
}

// query is a PromQL (or, in a logs panel, LogQL) expression and its legend.
type query struct {
	expr, legend string
}

type dashboard struct {
	uid, title, description string
	panels                  []panel
}

func q(expr, legend string) query { return query{expr, legend} }

// The queries use $__rate_interval, which Grafana sets from the scrape interval (15 s).
var dashboards = []dashboard{
	{
		uid: "mint-health", title: "Mint · Service Health Overview",
		description: "Is every process up, how much does it serve, how much of it fails; the logs of each service.",
		panels: []panel{
			{title: "Processes up", kind: "stat", unit: "short", exprs: []query{q(`sum by (service) (up{job="mint"})`, "{{service}}")}},
			{title: "Requests per second", kind: "timeseries", unit: "reqps", exprs: []query{
				q(`sum by (service) (rate(http_requests_total[$__rate_interval]))`, "{{service}}")}},
			{title: "Server errors (5xx ratio)", kind: "timeseries", unit: "percentunit", exprs: []query{
				q(`sum by (service) (rate(http_requests_total{status_code=~"5.."}[$__rate_interval])) / sum by (service) (rate(http_requests_total[$__rate_interval]))`, "{{service}}")}},
			{title: "Client errors (4xx per second)", kind: "timeseries", unit: "reqps", exprs: []query{
				q(`sum by (service, status_code) (rate(http_requests_total{status_code=~"4.."}[$__rate_interval]))`, "{{service}} {{status_code}}")}},
			{title: "Open connections", kind: "timeseries", unit: "short", exprs: []query{
				q(`sum by (instance) (active_connections)`, "{{instance}}")}},
			{title: "Dead-letter queues", kind: "stat", unit: "short", exprs: []query{
				q(`max by (queue) (bus_queue_messages{queue=~".+\\.dlq"})`, "{{queue}}")}},
			{title: "auth logs", kind: "logs", exprs: []query{q(`{service="auth"}`, "")}},
			{title: "wallet logs", kind: "logs", exprs: []query{q(`{service="wallet"}`, "")}},
			{title: "transactions logs", kind: "logs", exprs: []query{q(`{service="transactions"}`, "")}},
			{title: "notifications logs", kind: "logs", exprs: []query{q(`{service="notifications"}`, "")}},
			{title: "gateway logs", kind: "logs", exprs: []query{q(`{service="gateway"}`, "")}},
			{title: "Warnings and errors, every service", kind: "logs", exprs: []query{q(`{level=~"warn|error"}`, "")}},
		},
	},
	{
		uid: "mint-performance", title: "Mint · Performance",
		description: "Request latency percentiles, database time, cache hit rate and the Go runtime.",
		panels: []panel{
			{title: "Request latency p50", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.5, sum by (service, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{service}}")}},
			{title: "Request latency p95", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{service}}")}},
			{title: "Request latency p99", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))`, "{{service}}")}},
			{title: "Slowest routes (p95)", kind: "timeseries", unit: "s", exprs: []query{
				q(`topk(5, histogram_quantile(0.95, sum by (route, le) (rate(http_request_duration_seconds_bucket[$__rate_interval]))))`, "{{route}}")}},
			{title: "Database time per operation (p95)", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.95, sum by (collection, operation, le) (rate(db_query_duration_seconds_bucket[$__rate_interval])))`, "{{collection}} {{operation}}")}},
			{title: "Database operations per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (service) (rate(db_query_duration_seconds_count[$__rate_interval]))`, "{{service}}")}},
			{title: "Cache hit rate", kind: "timeseries", unit: "percentunit", exprs: []query{
				q(`sum by (service) (rate(cache_hits_total[$__rate_interval])) / (sum by (service) (rate(cache_hits_total[$__rate_interval])) + sum by (service) (rate(cache_misses_total[$__rate_interval])))`, "{{service}}")}},
			{title: "Goroutines", kind: "timeseries", unit: "short", exprs: []query{q(`go_goroutines{job="mint"}`, "{{instance}}")}},
			{title: "GC pause (max)", kind: "timeseries", unit: "s", exprs: []query{
				q(`max by (instance) (go_gc_duration_seconds{quantile="1"})`, "{{instance}}")}},
			{title: "Heap in use", kind: "timeseries", unit: "bytes", exprs: []query{q(`go_memstats_heap_inuse_bytes{job="mint"}`, "{{instance}}")}},
		},
	},
	{
		uid: "mint-cache", title: "Mint · Cache Analytics",
		description: "Redis cache-aside: hits and misses by key prefix, failures, and invalidations owed while Redis was away.",
		panels: []panel{
			{title: "Hits per second by key prefix", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (cache_key_prefix) (rate(cache_hits_total[$__rate_interval]))`, "{{cache_key_prefix}}")}},
			{title: "Misses per second by key prefix", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (cache_key_prefix) (rate(cache_misses_total[$__rate_interval]))`, "{{cache_key_prefix}}")}},
			{title: "Hit ratio by key prefix", kind: "timeseries", unit: "percentunit", exprs: []query{
				q(`sum by (cache_key_prefix) (rate(cache_hits_total[$__rate_interval])) / (sum by (cache_key_prefix) (rate(cache_hits_total[$__rate_interval])) + sum by (cache_key_prefix) (rate(cache_misses_total[$__rate_interval])))`, "{{cache_key_prefix}}")}},
			{title: "Cache errors per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (cache_key_prefix, operation) (rate(cache_errors_total[$__rate_interval]))`, "{{cache_key_prefix}} {{operation}}")}},
			{title: "Invalidations owed", kind: "timeseries", unit: "short", exprs: []query{q(`sum by (instance) (cache_invalidations_owed)`, "{{instance}}")}},
			{title: "Invalidations dropped (overflow)", kind: "stat", unit: "short", exprs: []query{q(`sum(cache_invalidations_overflows_total)`, "dropped")}},
		},
	},
	{
		uid: "mint-transactions", title: "Mint · Transaction Analytics",
		description: "The money path: transactions created and finished, their amounts and settle time, the saga's re-drives, the wallet's legs, the mails, and the queues: what they hold and what their consumers handle.",
		panels: []panel{
			{title: "Transactions per second by type and status", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (type, status) (rate(transactions_total[$__rate_interval]))`, "{{type}} {{status}}")}},
			{title: "Failed share of finished transactions", kind: "timeseries", unit: "percentunit", exprs: []query{
				q(`sum(rate(transactions_total{status="failed"}[$__rate_interval])) / sum(rate(transactions_total{status=~"completed|failed"}[$__rate_interval]))`, "failed")}},
			{title: "Amount moved per second", kind: "timeseries", unit: "short", exprs: []query{
				q(`sum by (type) (rate(transaction_amount_sum[$__rate_interval]))`, "{{type}}")}},
			{title: "Mean amount", kind: "timeseries", unit: "short", exprs: []query{
				q(`sum by (type) (rate(transaction_amount_sum[$__rate_interval])) / sum by (type) (rate(transaction_amount_count[$__rate_interval]))`, "{{type}}")}},
			{title: "Settle time p95 (created → terminal)", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.95, sum by (le) (rate(transaction_processing_duration_seconds_bucket[$__rate_interval])))`, "p95")}},
			{title: "Re-driven (stuck) transactions per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (status) (rate(transactions_redrive_deferred_total[$__rate_interval]))`, "{{status}} deferred (queues not drained)"),
				q(`sum by (status) (rate(transactions_redriven_total[$__rate_interval]))`, "{{status}} re-driven")}},
			{title: "Wallet legs applied per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum(rate(wallet_legs_applied_total[$__rate_interval]))`, "legs")}},
			{title: "Wallet answers per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum(rate(wallet_finalizations_total[$__rate_interval]))`, "finalizations")}},
			{title: "Mails per second by template and result", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (template, result) (rate(emails_sent_total[$__rate_interval]))`, "{{template}} {{result}}")}},
			{title: "Mail send time p95", kind: "timeseries", unit: "s", exprs: []query{
				q(`histogram_quantile(0.95, sum by (le) (rate(email_send_duration_seconds_bucket[$__rate_interval])))`, "p95")}},
			{title: "Events owed (outbox)", kind: "timeseries", unit: "short", exprs: []query{q(`sum by (service) (outbox_pending_events)`, "{{service}}")}},
			{title: "Events published per second", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (service) (rate(outbox_published_events_total[$__rate_interval]))`, "{{service}}")}},
			{title: "Messages handled per second by queue", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (queue) (rate(bus_messages_handled_total{outcome="ok"}[$__rate_interval]))`, "{{queue}}")}},
			{title: "Message handling errors per second by queue", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (queue) (rate(bus_messages_handled_total{outcome="error"}[$__rate_interval]))`, "{{queue}}")}},
			{title: "Queue depth", kind: "timeseries", unit: "short", exprs: []query{
				q(`max by (queue) (bus_queue_messages)`, "{{queue}}")}},
			{title: "Login attempts per second by result", kind: "timeseries", unit: "ops", exprs: []query{
				q(`sum by (result) (rate(auth_login_attempts_total[$__rate_interval]))`, "{{result}}")}},
		},
	},
	{
		uid: "mint-system", title: "Mint · System Resources",
		description: "CPU, memory, file descriptors and threads of every process, the database server's included.",
		panels: []panel{
			{title: "CPU (cores)", kind: "timeseries", unit: "short", exprs: []query{
				q(`sum by (service, instance) (rate(process_cpu_seconds_total{job="mint"}[$__rate_interval]))`, "{{service}} {{instance}}")}},
			{title: "Resident memory", kind: "timeseries", unit: "bytes", exprs: []query{
				q(`process_resident_memory_bytes{job="mint"}`, "{{service}} {{instance}}")}},
			{title: "Open file descriptors", kind: "timeseries", unit: "short", exprs: []query{
				q(`process_open_fds{job="mint"}`, "{{service}} {{instance}}")}},
			{title: "File descriptors used (of the limit)", kind: "timeseries", unit: "percentunit", exprs: []query{
				q(`process_open_fds{job="mint"} / process_max_fds{job="mint"}`, "{{service}} {{instance}}")}},
			{title: "OS threads", kind: "timeseries", unit: "short", exprs: []query{q(`go_threads{job="mint"}`, "{{service}} {{instance}}")}},
			{title: "Uptime", kind: "stat", unit: "s", exprs: []query{q(`time() - process_start_time_seconds{job="mint"}`, "{{service}} {{instance}}")}},
		},
	},
}

func main() {
	out := flag.String("out", "provisioning/dashboards", "folder to write the dashboards into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	for _, d := range dashboards {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(d.json()); err != nil {
			fail(err)
		}
		if err := os.WriteFile(filepath.Join(*out, d.uid+".json"), b.Bytes(), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dashboards:", err)
	os.Exit(1)
}

// json is the dashboard in Grafana's JSON model: panels two to a row, 12 columns wide, logs panels
// the whole width.
func (d dashboard) json() map[string]any {
	panels := make([]any, 0, len(d.panels))
	x, y, rowH := 0, 0, 0
	for i, p := range d.panels {
		w, h := 12, 8
		if p.kind == "logs" {
			w, h = 24, 10
		}
		if x+w > 24 { // next row
			x, y, rowH = 0, y+rowH, 0
		}
		panels = append(panels, p.json(i+1, x, y, w, h))
		x, rowH = x+w, max(rowH, h)
	}
	return map[string]any{
		"uid": d.uid, "title": d.title, "description": d.description,
		"tags": []string{"mint"}, "timezone": "browser", "schemaVersion": 41, "version": 1,
		"editable": false, "refresh": "30s", "time": map[string]string{"from": "now-1h", "to": "now"},
		"panels": panels,
	}
}

func (p panel) json(id, x, y, w, h int) map[string]any {
	ds := map[string]string{"type": "prometheus", "uid": "prometheus"}
	if p.kind == "logs" {
		ds = map[string]string{"type": "loki", "uid": "loki"}
	}
	targets := make([]any, len(p.exprs))
	for i, e := range p.exprs {
		t := map[string]any{"refId": string(rune('A' + i)), "datasource": ds, "expr": e.expr}
		if e.legend != "" {
			t["legendFormat"] = e.legend
		}
		targets[i] = t
	}
	out := map[string]any{
		"id": id, "type": p.kind, "title": p.title, "datasource": ds, "targets": targets,
		"gridPos": map[string]int{"x": x, "y": y, "w": w, "h": h},
	}
	if p.kind == "logs" {
		out["options"] = map[string]any{"showTime": true, "wrapLogMessage": true, "sortOrder": "Descending"}
	} else {
		out["fieldConfig"] = map[string]any{"defaults": map[string]any{"unit": p.unit}, "overrides": []any{}}
	}
	return out
}
