package bench

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mint-wallet/mint/internal/platform/scrape"
)

// The metrics the benchmark reads. db_query_duration_seconds is the histogram internal/platform/mongox
// records for every data command (labels operation, collection); its _count is the number of
// commands. The others tell when the system has finished the work the load gave it.
const (
	dbHistogram       = "db_query_duration_seconds"
	txTotal           = "transactions_total" // {type, status}: status pending counts creations
	outboxPublished   = "outbox_published_events_total"
	emailsSent        = "emails_sent_total"
	statusPending     = "pending"
	statusCompleted   = "completed"
	statusFailed      = "failed"
	typeTransfer      = "transfer"
	settleCheckPeriod = 50 * time.Millisecond
)

// scraper reads the Prometheus text exposition of some services.
type scraper struct {
	hc    *http.Client
	urls  []string // the /metrics URLs
	names []string // a short name per URL for the breakdown, "" when there is only one
}

// newScraper takes a comma-separated list of base URLs (or /metrics URLs); an empty list stands for
// fallback. Duplicates are dropped: in mint dev one process serves every service.
func newScraper(list string, fallback ...string) (*scraper, error) {
	bases := fallback
	if strings.TrimSpace(list) != "" {
		bases = strings.Split(list, ",")
	}
	s := &scraper{hc: &http.Client{Timeout: 10 * time.Second}}
	for _, b := range bases {
		b = strings.TrimRight(strings.TrimSpace(b), "/")
		if b == "" {
			continue
		}
		if err := loopbackOnly(b); err != nil {
			return nil, err
		}
		if !strings.HasSuffix(b, "/metrics") {
			b += "/metrics"
		}
		if slices.Contains(s.urls, b) {
			continue
		}
		u, err := url.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("metrics URL: %w", err)
		}
		s.urls = append(s.urls, b)
		s.names = append(s.names, u.Host)
	}
	if len(s.urls) == 0 {
		return nil, fmt.Errorf("no metrics URL")
	}
	if len(s.urls) == 1 {
		s.names[0] = ""
	}
	return s, nil
}

// scrape is the metric families of every service, in the order of s.urls.
func (s *scraper) scrape() ([]scrape.Families, error) {
	out := make([]scrape.Families, len(s.urls))
	for i, u := range s.urls {
		fams, err := s.scrapeOne(u)
		if err != nil {
			return nil, fmt.Errorf("metrics %s: %w", u, err)
		}
		out[i] = fams
	}
	return out, nil
}

func (s *scraper) scrapeOne(u string) (scrape.Families, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return scrape.Read(ctx, s.hc, u)
}

// opKey names one series of the DB histogram.
type opKey struct{ source, collection, operation string }

// dbCounts is the sample count of every series of the DB histogram.
type dbCounts map[opKey]float64

func (s *scraper) dbCounts(fams []scrape.Families) dbCounts {
	out := dbCounts{}
	for i, f := range fams {
		fam := f[dbHistogram]
		if fam == nil {
			continue
		}
		for _, m := range fam.GetMetric() {
			k := opKey{source: s.names[i], collection: scrape.Label(m, "collection"), operation: scrape.Label(m, "operation")}
			out[k] += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}

// minus is c - o; scaled by f before the subtraction.
func (c dbCounts) minus(o dbCounts, f float64) dbCounts {
	out := dbCounts{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range o {
		out[k] -= f * v
	}
	return out
}

func (c dbCounts) total() float64 {
	t := 0.0
	for _, v := range c {
		t += v
	}
	return t
}

// sum adds the values of the family name whose labels include match, over every service's scrape;
// found reports whether any service exports it.
func sum(fams []scrape.Families, name string, match map[string]string) (total float64, found bool) {
	for _, f := range fams {
		t, ok := f.Sum(name, match)
		total += t
		found = found || ok
	}
	return total, found
}

// transferCounts are the transfers the transactions service created and finished (completed or
// failed) since it started.
type transferCounts struct{ created, completed, failed float64 }

func (t transferCounts) finished() float64 { return t.completed + t.failed }

func transfersIn(fams []scrape.Families) (transferCounts, bool) {
	created, found := sum(fams, txTotal, map[string]string{"type": typeTransfer, "status": statusPending})
	completed, _ := sum(fams, txTotal, map[string]string{"type": typeTransfer, "status": statusCompleted})
	failed, _ := sum(fams, txTotal, map[string]string{"type": typeTransfer, "status": statusFailed})
	return transferCounts{created: created, completed: completed, failed: failed}, found
}

// snapshot is what the accounting needs from one reading of every service.
type snapshot struct {
	at        time.Time
	ops       dbCounts
	transfers transferCounts
}

func (s *scraper) snapshot() (snapshot, error) {
	fams, err := s.scrape()
	if err != nil {
		return snapshot{}, err
	}
	t, _ := transfersIn(fams)
	return snapshot{at: time.Now(), ops: s.dbCounts(fams), transfers: t}, nil
}

// settle waits, at most timeout, until every transfer the transactions service created has ended and
// the work that follows one (outbox events published, mails sent) has stood still for quiet. Only
// /metrics is read, which costs the services no database operation. It returns the reading that found
// the system settled.
func (s *scraper) settle(timeout, quiet time.Duration) (snapshot, error) {
	deadline := time.Now().Add(timeout)
	var last [3]float64
	lastChange := time.Now()
	for first := true; ; first = false {
		fams, err := s.scrape()
		if err != nil {
			return snapshot{}, err
		}
		t, found := transfersIn(fams)
		if !found {
			return snapshot{}, fmt.Errorf("no %s in %s: list the transactions service in -metrics", txTotal, strings.Join(s.urls, ", "))
		}
		txs, _ := sum(fams, txTotal, nil)
		published, _ := sum(fams, outboxPublished, nil)
		mails, _ := sum(fams, emailsSent, nil)
		now := time.Now()
		if sig := [3]float64{txs, published, mails}; first || sig != last {
			last, lastChange = sig, now
		}
		if t.finished() >= t.created && now.Sub(lastChange) >= quiet {
			return snapshot{at: now, ops: s.dbCounts(fams), transfers: t}, nil
		}
		if now.After(deadline) {
			return snapshot{}, fmt.Errorf("not settled after %s: %.0f of %.0f transfers ended", timeout, t.finished(), t.created)
		}
		time.Sleep(settleCheckPeriod)
	}
}

// dbReport is the accounting of one measured window.
type dbReport struct {
	window     time.Duration
	gross      dbCounts // every operation in the window
	completed  float64  // transfers completed in the window
	failed     float64
	created    float64 // transfers created in the window (by anyone)
	madeByLoad int64   // transfers this run created in the window

	statusGets int64    // status reads made in the window
	perGet     dbCounts // operations of one status read (nil: none to subtract)

	background dbCounts // operations per second at rest (nil: not measured)
}

func (r dbReport) net() dbCounts {
	n := r.gross
	if r.perGet != nil {
		n = n.minus(r.perGet, float64(r.statusGets))
	}
	if r.background != nil {
		n = n.minus(r.background, r.window.Seconds())
	}
	return n
}

// print writes the figure and its breakdown by collection and operation, largest first; as JSON,
// the figure alone.
func (r dbReport) print(w io.Writer, asJSON bool) {
	if asJSON {
		var per *float64
		if r.completed > 0 {
			v := r.net().total() / r.completed
			per = &v
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"dbOpsPerCompletedTransfer": per, "completed": r.completed, "failed": r.failed})
		return
	}
	if r.completed == 0 {
		fmt.Fprintln(w, "db ops per completed transfer: no transfer completed in the window")
		return
	}
	net := r.net()
	fmt.Fprintf(w, "db ops per completed transfer: %.1f (%.0f completed, %.0f failed, in a %s window; %.0f ops counted",
		net.total()/r.completed, r.completed, r.failed, r.window.Round(time.Millisecond), r.gross.total())
	if r.perGet != nil {
		fmt.Fprintf(w, ", less %d status GETs x %.2f ops", r.statusGets, r.perGet.total())
	}
	if r.background != nil {
		fmt.Fprintf(w, ", less background %.1f ops/s x %.1fs", r.background.total(), r.window.Seconds())
	}
	fmt.Fprintln(w, ")")
	if other := r.created - float64(r.madeByLoad); other > 0 {
		fmt.Fprintf(w, "  note: %.0f transfers in the window were not made by this run; the figures include them\n", other)
	}
	keys := make([]opKey, 0, len(net))
	for k := range net {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b opKey) int {
		return cmp.Or(cmp.Compare(net[b], net[a]), cmp.Compare(a.source, b.source),
			cmp.Compare(a.collection, b.collection), cmp.Compare(a.operation, b.operation))
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	multi := slices.ContainsFunc(keys, func(k opKey) bool { return k.source != "" })
	if multi {
		fmt.Fprintln(tw, "  service\tcollection\toperation\tops/transfer")
	} else {
		fmt.Fprintln(tw, "  collection\toperation\tops/transfer")
	}
	hidden := 0
	for _, k := range keys {
		per := net[k] / r.completed
		if per < 0.05 && per > -0.05 {
			if net[k] != 0 {
				hidden++
			}
			continue
		}
		if multi {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%12.1f\n", k.source, k.collection, k.operation, per)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%12.1f\n", k.collection, k.operation, per)
		}
	}
	_ = tw.Flush()
	if hidden > 0 {
		fmt.Fprintf(w, "  (%d more series below 0.05 per transfer)\n", hidden)
	}
	if r.perGet != nil {
		fmt.Fprintf(w, "  one status GET (subtracted above): %s\n", r.perGet.describe())
	}
	if r.background != nil {
		fmt.Fprintf(w, "  background at rest, per second (subtracted above): %s\n", r.background.describe())
	}
}

// describe lists the series of c that are not about zero, largest first, on one line.
func (c dbCounts) describe() string {
	keys := make([]opKey, 0, len(c))
	for k, v := range c {
		if v > 0.005 || v < -0.005 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	slices.SortFunc(keys, func(a, b opKey) int {
		return cmp.Or(cmp.Compare(c[b], c[a]), cmp.Compare(a.collection, b.collection), cmp.Compare(a.operation, b.operation))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k.collection + " " + k.operation
		if k.source != "" {
			name = k.source + " " + name
		}
		parts[i] = fmt.Sprintf("%s %.2f", name, c[k])
	}
	return strings.Join(parts, ", ")
}
