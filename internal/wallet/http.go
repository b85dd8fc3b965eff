package wallet

import (
	"net/http"

	"github.com/mint-wallet/mint/internal/platform/httpx"
	"github.com/mint-wallet/mint/internal/platform/jwtverify"
	"github.com/mint-wallet/mint/internal/platform/openapi"
)

// History is a page of a wallet's ledger, newest first.
type History struct {
	Entries []Entry `json:"entries"`
	Total   int64   `json:"total"`
	Limit   int     `json:"limit"`
	Offset  int     `json:"offset"`
}

type handlers struct{ svc *Service }

func (h *handlers) register(rt *httpx.Router) {
	tags := []string{"wallet"}
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/wallet/user", ID: "getWallet", Tags: tags, Auth: true,
		Summary:     "The signed-in user's wallet",
		Description: "The wallet is created by the user.signup event, so it can be missing (404) for a moment after sign-up.",
		Responses:   []openapi.Response{{Status: 200, Description: "the wallet", Body: Wallet{}}},
		Errors:      []int{401, 404}}, h.wallet)
	rt.Handle(openapi.Operation{Method: "GET", Path: "/api/v1/wallet/history", ID: "getWalletHistory", Tags: tags, Auth: true,
		Summary: "The signed-in user's ledger entries, newest first", Query: httpx.PageParams,
		Responses: []openapi.Response{{Status: 200, Description: "a page of entries", Body: History{}}},
		Errors:    []int{400, 401, 404}}, h.history)
}

func (h *handlers) wallet(w http.ResponseWriter, r *http.Request) error {
	wal, err := h.svc.Wallet(r.Context(), jwtverify.Caller(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, wal)
	return nil
}

func (h *handlers) history(w http.ResponseWriter, r *http.Request) error {
	page := httpx.ParsePage(r)
	body, err := h.svc.History(r.Context(), jwtverify.Caller(r), page.Limit, page.Offset)
	if err != nil {
		return err
	}
	httpx.WriteEncoded(w, http.StatusOK, body)
	return nil
}
