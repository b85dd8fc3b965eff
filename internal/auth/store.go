package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/mongox"
)

// DatabaseName is the auth service's own database.
const DatabaseName = "auth_db"

// userDoc is a user as stored. Outbox holds the events owed for this user (user.signup) until the relay
// has published them: written in the same insert as the user, so a crash cannot split them.
type userDoc struct {
	ID           bson.ObjectID    `bson:"_id"`
	FirstName    string           `bson:"firstName"`
	MiddleName   string           `bson:"middleName,omitempty"`
	LastName     string           `bson:"lastName"`
	Email        string           `bson:"email"`
	PasswordHash string           `bson:"passwordHash"`
	CreatedAt    time.Time        `bson:"createdAt"`
	UpdatedAt    time.Time        `bson:"updatedAt"`
	Outbox       []contract.Event `bson:"outbox,omitempty"`
}

func (d userDoc) user() User {
	return User{ID: d.ID.Hex(), FirstName: d.FirstName, MiddleName: d.MiddleName, LastName: d.LastName,
		Email: d.Email, CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
}

// throttleDoc counts one account's failed logins in the current window.
type throttleDoc struct {
	Email       string    `bson:"_id"`
	Failures    int       `bson:"failures"`
	WindowStart time.Time `bson:"windowStart"`
}

// revokedDoc is a token revoked by logout, kept until it would have expired anyway.
type revokedDoc struct {
	JTI       string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	ExpiresAt time.Time `bson:"expiresAt"`
	RevokedAt time.Time `bson:"revokedAt"`
}

// store runs the auth service's queries. Collections: users, login_throttle, revoked_tokens.
type store struct {
	users    *mongo.Collection
	throttle *mongo.Collection
	revoked  *mongo.Collection
}

func newStore(db *mongo.Database) *store {
	return &store{users: db.Collection("users"), throttle: db.Collection("login_throttle"), revoked: db.Collection("revoked_tokens")}
}

func (s *store) ensureIndexes(ctx context.Context) error {
	if err := mongox.EnsureIndexes(ctx, s.users,
		mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetName("email_unique")},
		mongo.IndexModel{Keys: bson.D{{Key: "createdAt", Value: 1}}, Options: options.Index().SetName("createdAt")},
	); err != nil {
		return fmt.Errorf("users indexes: %w", err)
	}
	if err := mongox.EnsureIndexes(ctx, s.revoked,
		mongo.IndexModel{Keys: bson.D{{Key: "revokedAt", Value: 1}}, Options: options.Index().SetName("revokedAt")},
	); err != nil {
		return fmt.Errorf("revoked_tokens indexes: %w", err)
	}
	return nil
}

func (s *store) insertUser(ctx context.Context, d userDoc) error {
	if _, err := s.users.InsertOne(ctx, d); err != nil {
		if mongox.IsDuplicateKey(err) {
			return failure.New(failure.EmailTaken, "an account with this email already exists")
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

// searchUsers matches q literally and case-insensitively inside first, middle or last name, or as a
// prefix of the email. q is quoted, so regex metacharacters mean themselves.
func (s *store) searchUsers(ctx context.Context, q string, limit int) ([]userDoc, error) {
	lit := regexp.QuoteMeta(q)
	contains := bson.Regex{Pattern: lit, Options: "i"}
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "firstName", Value: contains}},
		bson.D{{Key: "middleName", Value: contains}},
		bson.D{{Key: "lastName", Value: contains}},
		bson.D{{Key: "email", Value: bson.Regex{Pattern: "^" + lit, Options: "i"}}},
	}}}
	opts := options.Find().SetSort(bson.D{{Key: "firstName", Value: 1}, {Key: "lastName", Value: 1}, {Key: "_id", Value: 1}}).
		SetLimit(int64(limit)).SetProjection(publicProjection)
	return s.find(ctx, filter, opts)
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

func (s *store) updateNames(ctx context.Context, id string, c nameChange, now time.Time) (userDoc, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return userDoc{}, failure.New(failure.NotFound, "no such user")
	}
	set := bson.D{{Key: "updatedAt", Value: now}}
	update := bson.D{}
	if c.FirstName != nil {
		set = append(set, bson.E{Key: "firstName", Value: *c.FirstName})
	}
	if c.LastName != nil {
		set = append(set, bson.E{Key: "lastName", Value: *c.LastName})
	}
	if c.MiddleName != nil {
		if *c.MiddleName == "" {
			update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "middleName", Value: ""}}})
		} else {
			set = append(set, bson.E{Key: "middleName", Value: *c.MiddleName})
		}
	}
	update = append(update, bson.E{Key: "$set", Value: set})
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, update)
	if err != nil {
		return userDoc{}, fmt.Errorf("update user: %w", err)
	}
	if res.MatchedCount == 0 {
		return userDoc{}, failure.New(failure.NotFound, "no such user")
	}
	return s.userByID(ctx, id)
}

func (s *store) loginFailures(ctx context.Context, email string) (throttleDoc, error) {
	var d throttleDoc
	err := s.throttle.FindOne(ctx, bson.D{{Key: "_id", Value: email}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return throttleDoc{Email: email}, nil
	}
	if err != nil {
		return d, fmt.Errorf("find login throttle: %w", err)
	}
	return d, nil
}

// recordFailure counts a failed login for email, opening a new window when the last one has passed.
func (s *store) recordFailure(ctx context.Context, prev throttleDoc, now time.Time, window time.Duration) error {
	var err error
	if prev.Failures == 0 || now.Sub(prev.WindowStart) >= window {
		_, err = s.throttle.ReplaceOne(ctx, bson.D{{Key: "_id", Value: prev.Email}},
			throttleDoc{Email: prev.Email, Failures: 1, WindowStart: now}, options.Replace().SetUpsert(true))
	} else {
		_, err = s.throttle.UpdateOne(ctx, bson.D{{Key: "_id", Value: prev.Email}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}})
	}
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

func (s *store) clearFailures(ctx context.Context, email string) error {
	if _, err := s.throttle.DeleteOne(ctx, bson.D{{Key: "_id", Value: email}}); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
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

// sweep deletes what has expired: revoked tokens past their expiry and stale throttle windows. A
// sweeper instead of TTL indexes, which FerretDB lacks.
func (s *store) sweep(ctx context.Context, now time.Time, window time.Duration) error {
	if _, err := s.revoked.DeleteMany(ctx, bson.D{{Key: "expiresAt", Value: bson.D{{Key: "$lt", Value: now}}}}); err != nil {
		return fmt.Errorf("sweep revoked tokens: %w", err)
	}
	if _, err := s.throttle.DeleteMany(ctx, bson.D{{Key: "windowStart", Value: bson.D{{Key: "$lt", Value: now.Add(-window)}}}}); err != nil {
		return fmt.Errorf("sweep login throttle: %w", err)
	}
	return nil
}
