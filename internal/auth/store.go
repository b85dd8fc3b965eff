package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/mongox"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// DatabaseName is the auth service's own database.
const DatabaseName = "auth_db"

// userDoc is a user as stored. Its outbox holds the events owed for this user (user.signup) until the
// relay has published them: written in the same insert as the user, so a crash cannot split them.
type userDoc struct {
	ID             bson.ObjectID `bson:"_id"`
	FirstName      string        `bson:"firstName"`
	MiddleName     string        `bson:"middleName,omitempty"`
	LastName       string        `bson:"lastName"`
	Email          string        `bson:"email"`
	PasswordHash   string        `bson:"passwordHash"`
	CreatedAt      time.Time     `bson:"createdAt"`
	UpdatedAt      time.Time     `bson:"updatedAt"`
	SearchVersion  int64         `bson:"searchVersion"` // which search terms are this user's (search.go)
	outbox.Pending `bson:",inline"`
}

func (d userDoc) user() User {
	return User{ID: d.ID.Hex(), FirstName: d.FirstName, MiddleName: d.MiddleName, LastName: d.LastName,
		Email: d.Email, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// attemptDoc is one claimed slot of a login-throttle bucket (throttle.go): the attempt and the
// bucket's streak after it. Its _id, <bucket>/<n>, is what makes claiming atomic. A slot is written
// once, when claimed; how its attempt ended is recorded in the bucket (bucketDoc).
type attemptDoc struct {
	ID     string    `bson:"_id"`
	Bucket bucket    `bson:"bucket"`
	N      int64     `bson:"n"`
	At     time.Time `bson:"at"`
	Streak int       `bson:"streak"`
	OK     bool      `bson:"ok,omitempty"`     // the attempt succeeded (in bucketDoc.Last only)
	Refund int       `bson:"refund,omitempty"` // attempts a success takes back out of the streak (policy.resetOnSuccess)
}

func slotID(b bucket, n int64) string { return string(b) + "/" + strconv.FormatInt(n, 10) }

// bucketDoc is a bucket's newest finished attempt: where the next claim starts, and what it decides
// from. It is written once the attempt's password was checked, so a claim may find newer slots (of
// attempts still being checked, or whose process died); it then decides from those, as failures.
type bucketDoc struct {
	ID   bucket     `bson:"_id"`
	Last attemptDoc `bson:"last"`
}

// revokedDoc is a token revoked by logout, kept until it would have expired anyway.
type revokedDoc struct {
	JTI       string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	ExpiresAt time.Time `bson:"expiresAt"`
	RevokedAt time.Time `bson:"revokedAt"`
}

// store runs the auth service's queries. Collections: users, user_terms (the search, search.go),
// login_attempts and login_buckets (the throttle), revoked_tokens.
type store struct {
	users    *mongo.Collection
	terms    *mongo.Collection
	attempts *mongo.Collection
	buckets  *mongo.Collection
	revoked  *mongo.Collection
}

func newStore(db *mongo.Database) *store {
	return &store{users: db.Collection("users"), terms: db.Collection("user_terms"), attempts: db.Collection("login_attempts"),
		buckets: db.Collection("login_buckets"), revoked: db.Collection("revoked_tokens")}
}

// maxClaimRounds bounds how often one attempt loses the race for a slot before it is refused: each
// lost round means another attempt was counted, so a bucket runs out of free attempts long before.
const maxClaimRounds = 64

func (s *store) ensureIndexes(ctx context.Context) error {
	if err := mongox.EnsureIndexes(ctx, s.users,
		mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName("createdAt")},
	); err != nil {
		return fmt.Errorf("users indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, s.terms, termIndexes...); err != nil {
		return fmt.Errorf("user_terms indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, s.attempts, mongo.IndexModel{Keys: bson.D{{Key: "at", Value: 1}}, Options: options.Index().SetName("at")}); err != nil {
		return fmt.Errorf("login_attempts indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, s.buckets, mongo.IndexModel{Keys: bson.D{{Key: "last.at", Value: 1}}, Options: options.Index().SetName("last_at")}); err != nil {
		return fmt.Errorf("login_buckets indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, s.revoked,
		mongo.IndexModel{Keys: bson.D{{Key: "revokedAt", Value: 1}}, Options: options.Index().SetName("revokedAt")},
	); err != nil {
		return fmt.Errorf("revoked_tokens indexes: %w", err)
	}
	return nil
}

// insertUser stores d after its search terms.
func (s *store) insertUser(ctx context.Context, d userDoc) error {
	if err := s.insertTerms(ctx, d); err != nil {
		return err
	}
	if _, err := s.users.InsertOne(ctx, d); err != nil {
		if mongox.IsDuplicateKey(err) {
			_ = s.dropTerms(ctx, d.ID, d.SearchVersion+1) // else left behind for the search to filter out
			return failure.New(EmailTaken, "an account with this email already exists")
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

func (s *store) userBy(ctx context.Context, filter bson.D) (userDoc, error) {
	var d userDoc
	err := s.users.FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "outbox", Value: 0}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, failure.New(failure.NotFound, "no such user")
	}
	if err != nil {
		return d, fmt.Errorf("find user: %w", err)
	}
	return d, nil
}

func (s *store) userByEmail(ctx context.Context, email string) (userDoc, error) {
	return s.userBy(ctx, bson.D{{Key: "email", Value: email}})
}

func (s *store) userByID(ctx context.Context, id string) (userDoc, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return userDoc{}, failure.New(failure.NotFound, "no such user")
	}
	return s.userBy(ctx, bson.D{{Key: "_id", Value: oid}})
}

var publicProjection = bson.D{{Key: "firstName", Value: 1}, {Key: "lastName", Value: 1}, {Key: "email", Value: 1}, {Key: "createdAt", Value: 1}}

func (s *store) listUsers(ctx context.Context, limit, offset int) ([]userDoc, int64, error) {
	total, err := s.users.CountDocuments(ctx, bson.D{})
	if err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	opts := options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}).
		SetSkip(int64(offset)).SetLimit(int64(limit)).SetProjection(publicProjection)
	docs, err := s.find(ctx, bson.D{}, opts)
	return docs, total, err
}

func (s *store) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]userDoc, error) {
	cur, err := s.users.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	docs := []userDoc{}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return docs, nil
}

// claimAttempt counts an attempt in bucket b under policy p: it claims the slot after the newest one
// when p admits it, and returns the slot, or how long to wait. Whoever inserts slot n+1 first has it;
// a loser decides again from that slot.
func (s *store) claimAttempt(ctx context.Context, b bucket, p policy, now time.Time) (attemptDoc, time.Duration, error) {
	var (
		next int64
		last *attemptDoc
		head bucketDoc
	)
	switch err := s.buckets.FindOne(ctx, bson.D{{Key: "_id", Value: b}}).Decode(&head); {
	case errors.Is(err, mongo.ErrNoDocuments):
	case err != nil:
		return attemptDoc{}, 0, fmt.Errorf("find login bucket: %w", err)
	default:
		last, next = &head.Last, head.Last.N+1
	}
	for range maxClaimRounds {
		streak, wait := p.admit(last, now)
		if wait > 0 {
			return attemptDoc{}, wait, nil
		}
		d := attemptDoc{ID: slotID(b, next), Bucket: b, N: next, At: now, Streak: streak}
		_, err := s.attempts.InsertOne(ctx, d)
		if err == nil {
			return d, 0, nil
		}
		if !mongox.IsDuplicateKey(err) {
			return attemptDoc{}, 0, fmt.Errorf("count login attempt: %w", err)
		}
		// Another attempt took slot next first: it is now the newest, still being checked.
		if last, err = s.attempt(ctx, d.ID); err != nil {
			return attemptDoc{}, 0, err
		}
		next++
	}
	return attemptDoc{}, time.Second, nil
}

// attempt reads slot id, nil when it does not exist (swept).
func (s *store) attempt(ctx context.Context, id string) (*attemptDoc, error) {
	var d attemptDoc
	err := s.attempts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find login attempt: %w", err)
	}
	return &d, nil
}

// attemptFinished records how the attempt of slot d ended as its bucket's newest finished attempt,
// unless a newer one already is.
func (s *store) attemptFinished(ctx context.Context, d attemptDoc) error {
	_, err := s.buckets.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.Bucket}, {Key: "last.n", Value: bson.D{{Key: "$lt", Value: d.N}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last", Value: d}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) { // a duplicate: the bucket holds a newer attempt
		return fmt.Errorf("record login attempt: %w", err)
	}
	return nil
}

func (s *store) insertRevoked(ctx context.Context, d revokedDoc) error {
	if _, err := s.revoked.InsertOne(ctx, d); err != nil && !mongox.IsDuplicateKey(err) {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

func (s *store) revokedSince(ctx context.Context, since time.Time) ([]revokedDoc, error) {
	cur, err := s.revoked.Find(ctx, bson.D{{Key: "revokedAt", Value: bson.D{{Key: "$gte", Value: since}}}})
	if err != nil {
		return nil, fmt.Errorf("find revoked tokens: %w", err)
	}
	var docs []revokedDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("read revoked tokens: %w", err)
	}
	return docs, nil
}

// sweep deletes what has expired: revoked tokens past their expiry, and throttle slots and buckets
// whose streak is forgotten. A sweeper instead of TTL indexes, which FerretDB lacks.
func (s *store) sweep(ctx context.Context, now time.Time, window time.Duration) error {
	if _, err := s.revoked.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}}); err != nil {
		return fmt.Errorf("sweep revoked tokens: %w", err)
	}
	cutoff := bson.D{{Key: "$lt", Value: now.Add(-window)}}
	if _, err := s.attempts.DeleteMany(ctx, bson.D{{Key: "at", Value: cutoff}}); err != nil {
		return fmt.Errorf("sweep login attempts: %w", err)
	}
	if _, err := s.buckets.DeleteMany(ctx, bson.D{{Key: "last.at", Value: cutoff}}); err != nil {
		return fmt.Errorf("sweep login buckets: %w", err)
	}
	return nil
}
