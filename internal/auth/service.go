package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/auth/password"
	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/cache"
	"github.com/mint-wallet/mint/internal/platform/event"
	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/freetext"
	"github.com/mint-wallet/mint/internal/platform/jwtsign"
	"github.com/mint-wallet/mint/internal/platform/outbox"
)

// The auth service's own failure kinds (the problem codes of CONTRACT.md).
var (
	EmailTaken         = failure.Define("email_taken", http.StatusConflict, "Email already registered")
	InvalidCredentials = failure.Define("invalid_credentials", http.StatusUnauthorized, "Invalid credentials")
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

// UserCacheTTL is how long a user stays cached (5 minutes).
const UserCacheTTL = 5 * time.Minute

const searchLimit = 20

// Service holds the auth rules.
type Service struct {
	store    *store
	hasher   *password.Hasher
	issuer   *jwtsign.Issuer
	devices  *devices
	cache    cache.Cache
	outbox   outbox.Notifier
	revoked  *revocations
	throttle ThrottleConfig
	metrics  *metrics
	logger   *slog.Logger
	now      func() time.Time
}

func userKey(id string) string { return "auth:users:" + id }

// Signup creates an account and its session, and owes a user.signup event (stored with the user).
func (s *Service) Signup(ctx context.Context, req SignupRequest) (SignIn, error) {
	v, err := req.validate()
	if err != nil {
		return SignIn{}, err
	}
	hash, err := s.hasher.Hash(ctx, v.Password)
	if err != nil {
		return SignIn{}, fmt.Errorf("signup: %w", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	d := userDoc{ID: bson.NewObjectIDFromTimestamp(now), FirstName: v.FirstName, MiddleName: v.MiddleName,
		LastName: v.LastName, Email: v.Email, PasswordHash: hash, CreatedAt: now, UpdatedAt: now, SearchVersion: 1}
	ev, err := event.New(ctx, contract.AuthEvents, contract.UserSignup, now, contract.UserSignupData{
		UserID: d.ID.Hex(), Email: d.Email, FirstName: d.FirstName, LastName: d.LastName, CreatedAt: now})
	if err != nil {
		return SignIn{}, fmt.Errorf("signup: %w", err)
	}
	d.Pending = outbox.Owe(ev)
	if err := s.store.insertUser(ctx, d); err != nil {
		return SignIn{}, err
	}
	s.outbox.Notify(d.ID)
	return s.signIn(d, now, true)
}

// SignIn is a successful sign-up or login: the user, the session, and a new device token for the
// next login — unless the device presented one that is still young (a sign-in renews a token past
// half its lifetime, so a device stays recognised while it signs in at least twice a year). Device is
// "" when there is nothing new to keep.
type SignIn struct {
	User User
	Session
	Device string
}

// Login checks credentials. The attempt is counted before the password is checked (throttle.go), so
// no amount of concurrency checks more passwords than the throttle allows. An unknown email and a
// wrong password fail alike, in the same time: both are counted and verify one hash.
func (s *Service) Login(ctx context.Context, req LoginRequest, c Client) (SignIn, error) {
	email, err := req.validate()
	if err != nil {
		return SignIn{}, err
	}
	now := s.now().UTC()
	d, findErr := s.store.userByEmail(ctx, email)
	if findErr != nil && !failure.Is(findErr, failure.NotFound) {
		return SignIn{}, findErr
	}
	deviceID, renew := "", true
	if findErr == nil {
		deviceID, renew = s.devices.recognise(ctx, c.Device, d.ID.Hex(), now)
		renew = renew || deviceID == ""
	}
	attempt, err := s.admitLogin(ctx, email, c, deviceID, now)
	if err != nil {
		return SignIn{}, err
	}
	var ok bool
	if findErr != nil {
		err = s.hasher.VerifyDummy(ctx, req.Password)
	} else {
		ok, err = s.hasher.Verify(ctx, req.Password, d.PasswordHash)
	}
	if err != nil {
		return SignIn{}, fmt.Errorf("login: %w", err)
	}
	if err := s.finished(ctx, attempt, ok); err != nil {
		return SignIn{}, err
	}
	if !ok {
		s.metrics.login(loginFailed)
		return SignIn{}, failure.New(InvalidCredentials, "wrong email or password")
	}
	s.metrics.login(loginSucceeded)
	return s.signIn(d, now, renew)
}

// signIn issues user d a session and, when device, a device token.
func (s *Service) signIn(d userDoc, now time.Time, device bool) (SignIn, error) {
	tok, claims, err := s.issuer.Issue(d.ID.Hex(), now)
	if err != nil {
		return SignIn{}, fmt.Errorf("issue token: %w", err)
	}
	in := SignIn{User: d.user(), Session: Session{Token: tok, TokenID: claims.ID, IssuedAt: claims.IssuedAt, ExpiresAt: claims.Expiry}}
	if device {
		if in.Device, err = s.devices.issue(d.ID.Hex(), now); err != nil {
			return SignIn{}, err
		}
	}
	return in, nil
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
	// Cache-aside's race: a change may have committed and deleted the key between the read above and
	// the store. Reading again after the store catches it, as the wallet does with its version.
	if now, err := s.store.userByID(ctx, id); err != nil || !now.UpdatedAt.Equal(d.UpdatedAt) {
		if err := s.cache.Delete(ctx, userKey(id)); err != nil {
			s.logger.WarnContext(ctx, "user cache not invalidated", "user_id", id, "err", err)
		}
	}
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

// Search finds up to 20 users by name or email prefix (search.go), in the order of the text they
// matched; q is free text (the router checked its length and characters), matched literally. A hit
// shows its email only when q is the start of it.
func (s *Service) Search(ctx context.Context, q string) ([]SearchUser, error) {
	if q = freetext.Normalize(q); q == "" {
		return []SearchUser{}, nil // blank: nothing to find
	}
	docs, err := s.store.searchUsers(ctx, q, searchLimit)
	if err != nil {
		return nil, err
	}
	prefix := canonicalEmail(q)
	out := make([]SearchUser, len(docs))
	for i, d := range docs {
		out[i] = SearchUser{ID: d.ID.Hex(), FirstName: d.FirstName, LastName: d.LastName}
		if strings.HasPrefix(d.Email, prefix) {
			out[i].Email = d.Email
		}
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
	if err := s.store.dropTerms(ctx, d.ID, d.SearchVersion); err != nil { // left, they only cost the search a filtered-out read
		s.logger.WarnContext(ctx, "old search terms not removed", "user_id", id, "err", err)
	}
	if err := s.cache.Delete(ctx, userKey(id)); err != nil {
		s.logger.WarnContext(ctx, "user cache not invalidated", "user_id", id, "err", err)
	}
	return d.user(), nil
}
