package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/mongox/mongotest"
)

func TestFoldCase(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Knuth", "KNUTH"},
		{"knuth", "kNuTh"},
		{"Ωmega", "ωMEGA"},
		{"Σίσυφος", "σίσυφοσ"},    // final sigma, sigma and capital sigma are one letter ignoring case
		{"\u212Aelvin", "kelvin"}, // the Kelvin sign folds with k
		{"straße", "STRAẞE"},
	}
	for _, tt := range tests {
		if foldCase(tt.a) != foldCase(tt.b) {
			t.Errorf("foldCase(%q) = %q, foldCase(%q) = %q: want equal", tt.a, foldCase(tt.a), tt.b, foldCase(tt.b))
		}
	}
	if foldCase("ab") == foldCase("ba") || foldCase("é") == foldCase("e") {
		t.Error("foldCase equates strings that differ in more than case")
	}
}

func TestSearchTerms(t *testing.T) {
	d := userDoc{FirstName: "Ada", LastName: "Lovelace-Byron-Kingsbury-Noel", Email: "ada@example.com"}
	terms := searchTerms(d)
	// every suffix of two or more characters of each name, and the email, folded and cut
	for _, want := range []string{"ADA", "DA", "LOVELACE-BYRON-K", "RON-KINGSBURY-NO", "EL", "ADA@EXAMPLE.COM"} {
		if !slices.Contains(terms, want) {
			t.Errorf("terms lack %q: %q", want, terms)
		}
	}
	for _, term := range terms {
		if n := len([]rune(term)); n < 2 || n > termLen {
			t.Errorf("term %q has %d characters, want 2..%d", term, n, termLen)
		}
	}
	if slices.Contains(terms, "A") || slices.Contains(terms, "EXAMPLE.COM") {
		t.Errorf("terms hold a single character or an email's inside: %q", terms)
	}
	if !slices.IsSorted(terms) || len(slices.Compact(slices.Clone(terms))) != len(terms) {
		t.Errorf("terms not sorted and distinct: %q", terms)
	}
	// whatever a search finds the user by starts one of the terms
	for _, q := range []string{"lace-by", "ADA@ex", "noel", "elace-byron-kingsbury"} {
		from := cutTerm(foldCase(q))
		if !slices.ContainsFunc(terms, func(term string) bool { return strings.HasPrefix(term, from) }) {
			t.Errorf("no term starts with %q (query %q)", from, q)
		}
	}
}

func searchStore(t *testing.T) *store {
	t.Helper()
	s := newStore(mongotest.Open(t).Database(mongotest.DBName(t, "auth")))
	if err := s.ensureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newUser(first, last string) userDoc {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return userDoc{ID: bson.NewObjectID(), FirstName: first, LastName: last, CreatedAt: now, UpdatedAt: now, SearchVersion: 1,
		Email: fmt.Sprintf("%s.%s@example.com", strings.ToLower(first), strings.ToLower(last))}
}

func names(docs []userDoc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.FirstName + " " + d.LastName
	}
	return out
}

func TestSearchReadsTermsThenChecksTheUsers(t *testing.T) {
	ctx := context.Background()
	s := searchStore(t)
	for i := range 30 {
		if err := s.insertUser(ctx, newUser(fmt.Sprintf("Grace%02d", i), "Hopper")); err != nil {
			t.Fatal(err)
		}
	}
	alan := newUser("Alan", "Turing")
	if err := s.insertUser(ctx, alan); err != nil {
		t.Fatal(err)
	}

	t.Run("at most the limit, in the order of the matched text", func(t *testing.T) {
		got, err := s.searchUsers(ctx, "grace", 20)
		if err != nil {
			t.Fatal(err)
		}
		if want := 20; len(got) != want || got[0].FirstName != "Grace00" || got[19].FirstName != "Grace19" {
			t.Fatalf("search grace = %q, want Grace00..Grace19", names(got))
		}
	})
	t.Run("each user once, though many of its terms match", func(t *testing.T) {
		got, err := s.searchUsers(ctx, "pper", 40) // "pper" starts one term of each user; "hopper" users also match "er"
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 30 {
			t.Fatalf("search pper = %d users, want 30: %q", len(got), names(got))
		}
		got, err = s.searchUsers(ctx, "r", 100)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[bson.ObjectID]bool{}
		for _, d := range got {
			if seen[d.ID] {
				t.Fatalf("search r lists %s twice", d.FirstName)
			}
			seen[d.ID] = true
		}
	})
	t.Run("a term no name holds is filtered out", func(t *testing.T) {
		renamed := alan
		renamed.FirstName, renamed.LastName = "Zebedee", "Quux" // as a rename that crashed before it wrote the names
		if err := s.insertTerms(ctx, renamed); err != nil {
			t.Fatal(err)
		}
		if got, err := s.searchUsers(ctx, "zebedee", 20); err != nil || len(got) != 0 {
			t.Fatalf("search zebedee = %q, %v: want nothing (Alan has no such name)", names(got), err)
		}
		if got, err := s.searchUsers(ctx, "turing", 20); err != nil || len(got) != 1 {
			t.Fatalf("search turing = %q, %v: want Alan", names(got), err)
		}
	})
	t.Run("users stored before there were terms get theirs", func(t *testing.T) {
		old := newUser("Hedy", "Lamarr")
		if _, err := s.users.InsertOne(ctx, bson.D{{Key: "_id", Value: old.ID}, {Key: "firstName", Value: old.FirstName},
			{Key: "lastName", Value: old.LastName}, {Key: "email", Value: old.Email}, {Key: "createdAt", Value: old.CreatedAt}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.searchUsers(ctx, "lamarr", 20); len(got) != 0 {
			t.Fatalf("found %q before its terms were written", names(got))
		}
		for range 2 { // as each start of the service does
			if err := s.indexUnsearchable(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.searchUsers(ctx, "lamarr", 20)
		if err != nil || len(got) != 1 || got[0].ID != old.ID {
			t.Fatalf("search lamarr = %q, %v: want Hedy Lamarr", names(got), err)
		}
		if n, err := s.terms.CountDocuments(ctx, bson.D{{Key: "userId", Value: old.ID}}); err != nil || n != int64(len(searchTerms(old))) {
			t.Fatalf("%d terms, %v: want %d, written once", n, err, len(searchTerms(old)))
		}
	})
}

func TestRenamesKeepTheTermsOfTheCurrentNames(t *testing.T) {
	ctx := context.Background()
	s := searchStore(t)
	u := newUser("Ada", "Lovelace")
	if err := s.insertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	// two writers rename the same user concurrently; whoever loses a round reads again
	const writers, renames = 2, 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		succeeded int
	)
	for w := range writers {
		wg.Go(func() {
			for i := range renames {
				last := fmt.Sprintf("Name%d%02d", w, i)
				d, err := s.updateNames(ctx, u.ID.Hex(), nameChange{LastName: &last}, time.Now())
				if err != nil {
					if !strings.Contains(err.Error(), "renamed by others") {
						t.Error(err)
					}
					continue
				}
				if err := s.dropTerms(ctx, d.ID, d.SearchVersion); err != nil {
					t.Error(err)
				}
				mu.Lock()
				succeeded++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	d, err := s.userByID(ctx, u.ID.Hex())
	if err != nil {
		t.Fatal(err)
	}
	if d.SearchVersion != int64(1+succeeded) {
		t.Errorf("searchVersion %d after %d renames, want %d", d.SearchVersion, succeeded, 1+succeeded)
	}
	got, err := s.searchUsers(ctx, d.LastName, 20)
	if err != nil || len(got) != 1 || got[0].ID != u.ID {
		t.Fatalf("search by the current name %q = %q, %v", d.LastName, names(got), err)
	}
	if got, _ := s.searchUsers(ctx, "lovelace", 20); len(got) != 0 {
		t.Errorf("still found by the first name given: %q", names(got))
	}
	// what is left: at least the current names' terms, under the current version
	var own []termDoc
	cur, err := s.terms.Find(ctx, bson.D{{Key: "userId", Value: u.ID}, {Key: "version", Value: d.SearchVersion}})
	if err == nil {
		err = cur.All(ctx, &own)
	}
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, term := range own {
		have[term.Term] = true
	}
	for _, want := range searchTerms(d) {
		if !have[want] {
			t.Errorf("current term %q missing", want)
		}
	}
	if older, err := s.terms.CountDocuments(ctx, bson.D{{Key: "userId", Value: u.ID}, {Key: "version", Value: bson.D{{Key: "$lt", Value: d.SearchVersion}}}}); err != nil || older != 0 {
		t.Errorf("%d terms of earlier versions left, %v", older, err)
	}
}

func TestRenameOfAMissingUser(t *testing.T) {
	s := searchStore(t)
	name := "X"
	if _, err := s.updateNames(context.Background(), bson.NewObjectID().Hex(), nameChange{LastName: &name}, time.Now()); !failure.Is(err, failure.NotFound) {
		t.Fatalf("renaming no one: %v, want not found", err)
	}
}
