package auth

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The user search is answered through an index. A query matches a user when it occurs in one of the
// names or starts the email, ignoring case (searchFilter says it exactly). Whatever occurs in a name
// starts one of the name's suffixes, so the collection user_terms holds, for each user, every suffix
// of each name of at least two characters (a query is never shorter) and the email, case-folded and
// cut to termLen characters, one document each, indexed on term. A search reads the terms that start
// with the folded query, in order — a range of the index, on MongoDB as on the embedded database —
// and then the users they point at, with searchFilter applied again. So the terms need only be a
// superset: a term no name holds any more (a crash before old terms were removed, a signup refused
// for its email) is dropped by that second filter.
//
// To keep them a superset, a user's terms are written before the user's names: at signup before the
// user, at a rename before the rename. A user's searchVersion says which terms are its own; a rename
// reads it, writes its terms under the next version, sets that version only where the user still
// has the one it read (else it reads again), and then removes the terms of earlier versions.

// termLen is how many characters of a suffix a term keeps; longer queries are cut to it too.
const termLen = 16

// maxRenameRounds bounds how often a rename finds the user renamed meanwhile and starts again.
const maxRenameRounds = 8

// termDoc is one search term of one user.
type termDoc struct {
	ID      bson.ObjectID `bson:"_id"`
	Term    string        `bson:"term"`
	UserID  bson.ObjectID `bson:"userId"`
	Version int64         `bson:"version"`
}

// foldCase maps each character to one representative of the characters it equals ignoring case
// (the smallest of its Unicode simple-folding orbit, the equivalence a case-insensitive regular
// expression uses), so two strings equal ignoring case fold to the same bytes.
func foldCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// cutTerm keeps the first termLen characters of s.
func cutTerm(s string) string {
	n := 0
	for i := range s {
		if n == termLen {
			return s[:i]
		}
		n++
	}
	return s
}

// searchTerms returns the distinct terms a search must find d by.
func searchTerms(d userDoc) []string {
	set := map[string]bool{cutTerm(foldCase(d.Email)): true}
	for _, name := range []string{d.FirstName, d.MiddleName, d.LastName} {
		folded := foldCase(name)
		for i := range folded {
			if rest := folded[i:]; utf8.RuneCountInString(rest) >= 2 {
				set[cutTerm(rest)] = true
			}
		}
	}
	terms := make([]string, 0, len(set))
	for t := range set {
		terms = append(terms, t)
	}
	slices.Sort(terms)
	return terms
}

// searchFilter matches q literally and case-insensitively inside first, middle or last name, or as a
// prefix of the email. q is quoted, so regular-expression metacharacters mean themselves.
func searchFilter(q string) bson.A {
	lit := regexp.QuoteMeta(q)
	contains := bson.Regex{Pattern: lit, Options: "i"}
	return bson.A{
		bson.D{{Key: "firstName", Value: contains}},
		bson.D{{Key: "middleName", Value: contains}},
		bson.D{{Key: "lastName", Value: contains}},
		bson.D{{Key: "email", Value: bson.Regex{Pattern: "^" + lit, Options: "i"}}},
	}
}

// insertTerms stores d's terms under d.SearchVersion.
func (s *store) insertTerms(ctx context.Context, d userDoc) error {
	terms := searchTerms(d)
	docs := make([]any, len(terms))
	for i, t := range terms {
		docs[i] = termDoc{ID: bson.NewObjectID(), Term: t, UserID: d.ID, Version: d.SearchVersion}
	}
	if _, err := s.terms.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("insert search terms: %w", err)
	}
	return nil
}

// dropTerms removes the user's terms older than version.
func (s *store) dropTerms(ctx context.Context, user bson.ObjectID, version int64) error {
	_, err := s.terms.DeleteMany(ctx, bson.D{{Key: "userId", Value: user}, {Key: "version", Value: bson.D{{Key: "$lt", Value: version}}}})
	if err != nil {
		return fmt.Errorf("remove old search terms: %w", err)
	}
	return nil
}

// hasVersion is the filter for a user whose searchVersion is v (0: a user stored before there were
// search terms, who has none).
func hasVersion(v int64) bson.E {
	if v == 0 {
		return bson.E{Key: "searchVersion", Value: bson.D{{Key: "$exists", Value: false}}}
	}
	return bson.E{Key: "searchVersion", Value: v}
}

// searchUsers returns up to limit users searchFilter(q) matches, in the order of the terms they were
// found by.
func (s *store) searchUsers(ctx context.Context, q string, limit int) ([]userDoc, error) {
	from := cutTerm(foldCase(q))
	cur, err := s.terms.Find(ctx, bson.D{{Key: "term", Value: bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: from + string(unicode.MaxRune)}}}},
		options.Find().SetSort(bson.D{{Key: "term", Value: 1}}).SetProjection(bson.D{{Key: "userId", Value: 1}}).SetBatchSize(int32(4*limit)))
	if err != nil {
		return nil, fmt.Errorf("find search terms: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }()
	match := searchFilter(q)
	found := []userDoc{}
	seen := map[bson.ObjectID]bool{}
	var batch []bson.ObjectID
	check := func() error { // keeps the users of batch that really match
		docs, err := s.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: batch}}}, {Key: "$or", Value: match}},
			options.Find().SetProjection(publicProjection))
		if err != nil {
			return err
		}
		byID := make(map[bson.ObjectID]userDoc, len(docs))
		for _, d := range docs {
			byID[d.ID] = d
		}
		for _, id := range batch {
			if d, ok := byID[id]; ok && len(found) < limit {
				found = append(found, d)
			}
		}
		batch = batch[:0]
		return nil
	}
	for len(found) < limit && cur.Next(ctx) {
		var t termDoc
		if err := cur.Decode(&t); err != nil {
			return nil, fmt.Errorf("read search term: %w", err)
		}
		if seen[t.UserID] {
			continue
		}
		seen[t.UserID] = true
		if batch = append(batch, t.UserID); len(found)+len(batch) == limit {
			if err := check(); err != nil {
				return nil, err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read search terms: %w", err)
	}
	if len(batch) > 0 {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// indexUnsearchable gives the users stored before there were search terms their terms.
func (s *store) indexUnsearchable(ctx context.Context) error {
	docs, err := s.find(ctx, bson.D{hasVersion(0)}, options.Find().SetProjection(bson.D{{Key: "outbox", Value: 0}, {Key: "passwordHash", Value: 0}}))
	if err != nil {
		return err
	}
	for _, d := range docs {
		d.SearchVersion = 1
		if err := s.insertTerms(ctx, d); err != nil {
			return err
		}
		if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, hasVersion(0)},
			bson.D{{Key: "$set", Value: bson.D{{Key: "searchVersion", Value: int64(1)}}}}); err != nil {
			return fmt.Errorf("mark user searchable: %w", err)
		}
	}
	return nil
}

// updateNames applies c to the user's names and returns the user as changed. The new names' terms
// are stored first; the caller removes the old ones (dropTerms below the returned SearchVersion).
func (s *store) updateNames(ctx context.Context, id string, c nameChange, now time.Time) (userDoc, error) {
	for range maxRenameRounds {
		d, err := s.userByID(ctx, id)
		if err != nil {
			return userDoc{}, err
		}
		was := d.SearchVersion
		d.SearchVersion, d.UpdatedAt = was+1, now
		set := bson.D{{Key: "updatedAt", Value: now}, {Key: "searchVersion", Value: d.SearchVersion}}
		update := bson.D{}
		if c.FirstName != nil {
			d.FirstName = *c.FirstName
			set = append(set, bson.E{Key: "firstName", Value: d.FirstName})
		}
		if c.LastName != nil {
			d.LastName = *c.LastName
			set = append(set, bson.E{Key: "lastName", Value: d.LastName})
		}
		if c.MiddleName != nil {
			if d.MiddleName = *c.MiddleName; d.MiddleName == "" {
				update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "middleName", Value: ""}}})
			} else {
				set = append(set, bson.E{Key: "middleName", Value: d.MiddleName})
			}
		}
		if err := s.insertTerms(ctx, d); err != nil {
			return userDoc{}, err
		}
		update = append(update, bson.E{Key: "$set", Value: set})
		res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, hasVersion(was)}, update)
		if err != nil {
			return userDoc{}, fmt.Errorf("update user: %w", err)
		}
		if res.MatchedCount == 1 {
			return d, nil
		}
	}
	return userDoc{}, fmt.Errorf("update user %s: renamed by others %d times meanwhile", id, maxRenameRounds)
}

// termIndexes are user_terms' indexes: the search's range, and a user's terms by version.
var termIndexes = []mongo.IndexModel{
	{Keys: bson.D{{Key: "term", Value: 1}}, Options: options.Index().SetName("term")},
	{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "version", Value: 1}}, Options: options.Index().SetName("user_version")},
}
