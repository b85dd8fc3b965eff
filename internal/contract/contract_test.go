package contract_test

import (
	"context"
	"testing"
	"time"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/bus"
)

func TestOnDecodesItsTypeAndRefusesTheRest(t *testing.T) {
	signup, err := contract.NewEvent(context.Background(), contract.AuthEvents, contract.UserSignup, time.Now(),
		contract.UserSignupData{UserID: "u1", Email: "u1@example.com", FirstName: "Ada", LastName: "L"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := signup.Message()
	if err != nil {
		t.Fatal(err)
	}
	good.Attempt = 3
	wrongType := good
	wrongType.Body = []byte(`{"id":"e2","type":"transaction.created","occurredAt":"2026-01-01T00:00:00Z","data":{"userId":"u1"}}`)

	var got contract.Received[contract.UserSignupData]
	h := contract.On(contract.UserSignup, func(_ context.Context, ev contract.Received[contract.UserSignupData]) error {
		got = ev
		return nil
	})
	tests := []struct {
		name string
		msg  bus.Message
		ok   bool
	}{
		{"its type", good, true},
		{"another type", wrongType, false},
		{"not JSON", bus.Message{Type: contract.UserSignup, Body: []byte(`{`)}, false},
		{"no data", bus.Message{Type: contract.UserSignup, Body: []byte(`{"id":"e3","type":"user.signup"}`)}, false},
		{"data of another shape", bus.Message{Type: contract.UserSignup,
			Body: []byte(`{"id":"e4","type":"user.signup","occurredAt":"2026-01-01T00:00:00Z","data":{"userId":7}}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = contract.Received[contract.UserSignupData]{}
			err := h(context.Background(), tt.msg)
			if tt.ok {
				if err != nil || got.ID != signup.ID || got.Type != contract.UserSignup || got.Data.FirstName != "Ada" || got.Attempt != 3 {
					t.Fatalf("err %v, handler got %+v", err, got)
				}
				return
			}
			if !bus.IsPermanent(err) || got.ID != "" {
				t.Fatalf("err %v (want permanent), handler got %+v (want not called)", err, got)
			}
		})
	}
}
