package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
)

// Session is an issued token.
type Session struct {
	Token     string
	TokenID   string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Identity is the verified caller of a request.
type Identity struct {
	UserID    string
	TokenID   string
	ExpiresAt time.Time
}

// Notifier is told which documents got pending events, so they are published now rather than at the
// next sweep.
type Notifier interface{ Notify(ids ...any) }

// ThrottleConfig bounds failed logins per account (not per IP: an attacker has many IPs, a victim one
// account).
type ThrottleConfig struct {
	MaxFailures int           // failures allowed in Window before logins are refused
	Window      time.Duration // how long failures are remembered
}

// UserCacheTTL is how long a user stays cached (the seed's 5 minutes).
const UserCacheTTL = 5 * time.Minute

const searchLimit = 20

// Service holds the auth rules.
type Service struct {
	store    *store
	hasher   *password.Hasher
	issuer   *jwtsign.Issuer
	cache    cache.Cache
	outbox   Notifier
	revoked  *revocations
	throttle ThrottleConfig
	logger   *slog.Logger
	now      func() time.Time
}

func userKey(id string) string { return "auth:users:" + id }

// Signup creates an account and its session, and owes a user.signup event (stored with the user).
func (s *Service) Signup(ctx context.Context, req SignupRequest) (User, Session, error) {
	v, err := req.validate()
	if err != nil {
		return User{}, Session{}, err
	}
	hash, err := s.hasher.Hash(ctx, v.Password)
	if err != nil {
		return User{}, Session{}, fmt.Errorf("signup: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	d := userDoc{ID: bson.NewObjectIDFromTimestamp(now), FirstName: v.FirstName, MiddleName: v.MiddleName,
		LastName: v.LastName, Email: v.Email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	ev, err := contract.NewEvent(ctx, contract.AuthEvents, contract.UserSignup, now, contract.UserSignupData{
		UserID: d.ID.Hex(), Email: d.Email, FirstName: d.FirstName, LastName: d.LastName, CreatedAt: now})
	if err != nil {
		return User{}, Session{}, fmt.Errorf("signup: %w", err)
	}
	d.Outbox = []contract.Event{ev}
	if err := s.store.insertUser(ctx, d); err != nil {
		return User{}, Session{}, err
	}
	s.outbox.Notify(d.ID)
	sess, err := s.issue(d.ID.Hex(), now)
	if err != nil {
		return User{}, Session{}, fmt.Errorf("signup: %w", err)
	}
	return d.user(), sess, nil
}

// Login checks credentials. An unknown email and a wrong password fail alike, in the same time: both
// verify one hash and record one failure.
func (s *Service) Login(ctx context.Context, req LoginRequest) (User, Session, error) {
	email, err := req.validate()
	if err != nil {
		return User{}, Session{}, err
	}
	now := s.now().UTC()
	tries, err := s.store.loginFailures(ctx, email)
	if err != nil {
		return User{}, Session{}, err
	}
	if wait := s.lockedFor(tries, now); wait > 0 {
		return User{}, Session{}, &failure.Error{Kind: failure.RateLimited, RetryAfter: wait,
			Detail: "too many failed logins for this account; try again later"}
	}
	d, findErr := s.store.userByEmail(ctx, email)
	var ok bool
	switch {
	case failure.Is(findErr, failure.NotFound):
		err = s.hasher.VerifyDummy(ctx, req.Password)
	case findErr != nil:
		return User{}, Session{}, findErr
	default:
		ok, err = s.hasher.Verify(ctx, req.Password, d.PasswordHash)
	}
	if err != nil {
		return User{}, Session{}, fmt.Errorf("login: %w", err)
	}
	if !ok {
		if err := s.store.recordFailure(ctx, tries, now, s.throttle.Window); err != nil {
			return User{}, Session{}, err
		}
		return User{}, Session{}, failure.New(failure.InvalidCredentials, "wrong email or password")
	}
	if tries.Failures > 0 {
		if err := s.store.clearFailures(ctx, email); err != nil {
			return User{}, Session{}, err
		}
	}
	sess, err := s.issue(d.ID.Hex(), now)
	if err != nil {
		return User{}, Session{}, fmt.Errorf("login: %w", err)
	}
	return d.user(), sess, nil
}

func (s *Service) issue(userID string, now time.Time) (Session, error) {
	tok, claims, err := s.issuer.Issue(userID, now)
	if err != nil {
		return Session{}, fmt.Errorf("issue token: %w", err)
	}
	return Session{Token: tok, TokenID: claims.ID, IssuedAt: claims.IssuedAt, ExpiresAt: claims.Expiry}, nil
}

func (s *Service) lockedFor(t throttleDoc, now time.Time) time.Duration {
	if t.Failures < s.throttle.MaxFailures {
		return 0
	}
	return t.WindowStart.Add(s.throttle.Window).Sub(now)
}

// Logout revokes the caller's token until it expires.
func (s *Service) Logout(ctx context.Context, id Identity) error {
	return s.revoked.revoke(ctx, revokedDoc{JTI: id.TokenID, UserID: id.UserID, ExpiresAt: id.ExpiresAt, RevokedAt: s.now().UTC()})
}

// User returns a user, cache-aside (the cached copy never holds the password hash).
func (s *Service) User(ctx context.Context, id string) (User, error) {
	var u User
	if hit, _ := cache.GetJSON(ctx, s.cache, userKey(id), &u); hit {
		return u, nil
	}
	d, err := s.store.userByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	u = d.user()
	_ = cache.SetJSON(ctx, s.cache, userKey(id), u, UserCacheTTL)
	return u, nil
}

// PublicUser returns what any signed-in user may see of user id.
func (s *Service) PublicUser(ctx context.Context, id string) (PublicUser, error) {
	u, err := s.User(ctx, id)
	if err != nil {
		return PublicUser{}, err
	}
	return PublicUser{ID: u.ID, FirstName: u.FirstName, LastName: u.LastName}, nil
}

// Users lists users, oldest first.
func (s *Service) Users(ctx context.Context, limit, offset int) ([]PublicUser, int64, error) {
	docs, total, err := s.store.listUsers(ctx, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	out := make([]PublicUser, len(docs))
	for i, d := range docs {
		out[i] = PublicUser{ID: d.ID.Hex(), FirstName: d.FirstName, LastName: d.LastName}
	}
	return out, total, nil
}

// Search finds up to 20 users by name or email prefix; q is 2–100 characters, matched literally.
func (s *Service) Search(ctx context.Context, q string) ([]SearchUser, error) {
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n < 2 || n > 100 {
		return nil, failure.InvalidFields(failure.FieldError{Field: "query.q", Message: "must be 2 to 100 characters"})
	}
	docs, err := s.store.searchUsers(ctx, q, searchLimit)
	if err != nil {
		return nil, err
	}
	out := make([]SearchUser, len(docs))
	for i, d := range docs {
		out[i] = SearchUser{ID: d.ID.Hex(), FirstName: d.FirstName, LastName: d.LastName, Email: d.Email}
	}
	return out, nil
}

// UpdateMe changes the caller's names and drops the stale cached copy.
func (s *Service) UpdateMe(ctx context.Context, id string, req UpdateRequest) (User, error) {
	c, err := req.validate()
	if err != nil {
		return User{}, err
	}
	d, err := s.store.updateNames(ctx, id, c, s.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return User{}, err
	}
	if err := s.cache.Delete(ctx, userKey(id)); err != nil {
		s.logger.WarnContext(ctx, "user cache not invalidated", "user_id", id, "err", err)
	}
	return d.user(), nil
}
