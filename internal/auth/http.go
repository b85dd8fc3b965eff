package auth

import (
	"net/http"
	"time"

	"github.com/mint-wallet/mint/internal/platform/failure"
	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// SessionCookie is the cookie holding the session token.
const SessionCookie = "mint_session"

const loginPath = "/api/v1/auth/login"

// SessionResponse is a user with the session just issued: browsers use the cookie, API clients the token.
type SessionResponse struct {
	User
	Token     string    `json:"token" doc:"RS256 JWT; send as Authorization: Bearer"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// UserList is a page of users.
type UserList struct {
	Users  []PublicUser `json:"users"`
	Total  int64        `json:"total"`
	Limit  int          `json:"limit"`
	Offset int          `json:"offset"`
}

// SearchResult holds at most 20 search hits.
type SearchResult struct {
	Users []SearchUser `json:"users"`
	Total int          `json:"total"`
}

type handlers struct {
	svc          *Service
	secureCookie bool
	jwks         func() []byte
}

// identity is the verified caller; the router authenticated every route that calls it.
func identity(r *http.Request) Identity {
	c, _ := jwtverify.ClaimsFrom(r.Context())
	return Identity{UserID: c.Subject, TokenID: c.ID, ExpiresAt: c.Expiry}
}

func (h *handlers) register(rt *httpx.Router) {
	tags := []string{"auth"}
	rt.Handle(openapi.Operation{Method: "POST", Path: "/api/v1/auth/signup", ID: "signup", Tags: tags,
		Summary: "Create an account and sign in", Request: SignupRequest{},
		Responses: []openapi.Response{{Status: 201, Description: "the new user; sets the mint_session cookie", Body: SessionResponse{}}},
		Errors:    []int{400, 409, 413, 415}}, h.signup)
	rt.Handle(openapi.Operation{Method: "POST", Path: loginPath, ID: "login", Tags: tags,
		Summary: "Sign in (throttled per client and account; a mint_device cookie from an earlier sign-in keeps this device apart from strangers)", Request: LoginRequest{},
		Responses: []openapi.Response{{Status: 200, Description: "the user; sets the mint_session cookie", Body: SessionResponse{}}},
		Errors:    []int{400, 401, 413, 415, 429}}, h.login)
	rt.Handle(openapi.Operation{Method: "POST", Path: "/api/v1/auth/logout", ID: "logout", Tags: tags, Auth: true,
		Summary:   "Sign out: revoke the token and clear the cookie",
		Responses: []openapi.Response{{Status: 204, Description: "signed out"}}, Errors: []int{401}}, h.logout)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/auth/user", ID: "currentUser", Tags: tags, Auth: true,
		Summary:   "The signed-in user",
		Responses: []openapi.Response{{Status: 200, Description: "the user", Body: User{}}}, Errors: []int{401}}, h.me)

	utags := []string{"users"}
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/users", ID: "listUsers", Tags: utags, Auth: true,
		Summary: "List users", Query: httpx.PageParams,
		Responses: []openapi.Response{{Status: 200, Description: "a page of users", Body: UserList{}}}, Errors: []int{400, 401}}, h.list)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/users/search", ID: "searchUsers", Tags: utags, Auth: true,
		Summary:   "Find users by name (case-insensitive, literal) or email prefix",
		Query:     []openapi.Param{{Name: "q", Description: "text to find", Required: true, Constraints: `minLength:"2" maxLength:"100"`}},
		Responses: []openapi.Response{{Status: 200, Description: "at most 20 users, in the order of the text they matched", Body: SearchResult{}}}, Errors: []int{400, 401}}, h.search)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/users/me", ID: "getMe", Tags: utags, Auth: true,
		Summary:   "The signed-in user",
		Responses: []openapi.Response{{Status: 200, Description: "the user", Body: User{}}}, Errors: []int{401}}, h.me)
	rt.Handle(openapi.Operation{Method: "PATCH", Path: "/api/v1/users/me", ID: "updateMe", Tags: utags, Auth: true,
		Summary: "Change your names", Request: UpdateRequest{},
		Responses: []openapi.Response{{Status: 200, Description: "the updated user", Body: User{}}}, Errors: []int{400, 401, 413, 415}}, h.updateMe)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/users/{id}", ID: "getUser", Tags: utags, Auth: true,
		Summary:   "A user's public profile",
		Responses: []openapi.Response{{Status: 200, Description: "the user", Body: PublicUser{}}}, Errors: []int{401, 404}}, h.user)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/.well-known/jwks.json", ID: "jwks", Tags: tags,
		Summary: "Public keys that verify session tokens (every key still valid)",
		Responses: []openapi.Response{{Status: 200, Description: "a JSON Web Key Set", Body: openapi.Schema{
			"type": "object", "required": []string{"keys"},
			"properties": map[string]any{"keys": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}},
		}}}}, h.jwksDoc)
}

func (h *handlers) signup(w http.ResponseWriter, r *http.Request) error {
	var req SignupRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	in, err := h.svc.Signup(r.Context(), req)
	if err != nil {
		return err
	}
	h.writeSignIn(w, http.StatusCreated, in)
	return nil
}

func (h *handlers) login(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	c := Client{IP: httpx.ClientIP(r)}
	if dc, err := r.Cookie(DeviceCookie); err == nil {
		c.Device = dc.Value
	}
	in, err := h.svc.Login(r.Context(), req, c)
	if err != nil {
		return err
	}
	h.writeSignIn(w, http.StatusOK, in)
	return nil
}

func (h *handlers) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Logout(r.Context(), identity(r)); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.secureCookie, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) me(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.User(r.Context(), identity(r).UserID)
	if failure.Is(err, failure.NotFound) {
		// A valid token for an account that no longer exists is no session.
		return failure.New(failure.Unauthenticated, "the account of this session does not exist")
	}
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (h *handlers) updateMe(w http.ResponseWriter, r *http.Request) error {
	var req UpdateRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	u, err := h.svc.UpdateMe(r.Context(), identity(r).UserID, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	page := httpx.ParsePage(r)
	users, total, err := h.svc.Users(r.Context(), page.Limit, page.Offset)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, UserList{Users: users, Total: total, Limit: page.Limit, Offset: page.Offset})
	return nil
}

func (h *handlers) search(w http.ResponseWriter, r *http.Request) error {
	users, err := h.svc.Search(r.Context(), r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, SearchResult{Users: users, Total: len(users)})
	return nil
}

func (h *handlers) user(w http.ResponseWriter, r *http.Request) error {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.PublicUser(r.Context(), id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (h *handlers) jwksDoc(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(h.jwks())
	return nil
}

// writeSignIn sets the session cookie and the device cookie — sent back only to the login route, the
// one place that reads it — and writes the user with the token.
func (h *handlers) writeSignIn(w http.ResponseWriter, status int, in SignIn) {
	s := in.Session
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.Token, Path: "/",
		MaxAge: int(s.ExpiresAt.Sub(s.IssuedAt).Seconds()), Expires: s.ExpiresAt,
		HttpOnly: true, Secure: h.secureCookie, SameSite: http.SameSiteStrictMode})
	if in.Device != "" {
		http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: in.Device, Path: loginPath,
			MaxAge: int(DeviceLifetime.Seconds()), HttpOnly: true, Secure: h.secureCookie, SameSite: http.SameSiteStrictMode})
	}
	httpx.WriteJSON(w, status, SessionResponse{User: in.User, Token: s.Token, ExpiresAt: s.ExpiresAt})
}
