package wallet

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/money"
)

func TestNextBalance(t *testing.T) {
	tests := []struct {
		name          string
		balance, diff money.Amount
		want          money.Amount
		wantErr       error
	}{
		{"credit an empty wallet", 0, 10, 10, nil},
		{"credit", 1050, 1, 1051, nil},
		{"debit part", 1000, -333, 667, nil},
		{"debit all of it", 1000, -1000, 0, nil},
		{"debit one cent too many", 1000, -1001, 0, errInsufficientFunds},
		{"debit an empty wallet", 0, -1, 0, errInsufficientFunds},
		{"zero change", 5, 0, 5, nil},
		{"credit past int64", math.MaxInt64 - 1, 2, 0, money.ErrOverflow},
		{"a negative balance stays frozen for debits", -5, -1, 0, errInsufficientFunds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := nextBalance(tt.balance, tt.diff)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("nextBalance(%s, %s) = %s, %v; want %v", tt.balance, tt.diff, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("nextBalance(%s, %s) = %s, %v; want %s", tt.balance, tt.diff, got, err, tt.want)
			}
		})
	}
}

const (
	alice = "65a1b2c3d4e5f60718293a4b"
	bob   = "65a1b2c3d4e5f60718293a4c"
	txID  = "65a1b2c3d4e5f60718293a4d"
)

func TestLegsOf(t *testing.T) {
	topup := legsOf(contract.TransactionProcessingData{TransactionID: txID, Type: contract.TypeTopup, UserID: alice, Amount: 1050})
	if want := []leg{{UserID: alice, TransactionID: txID, Name: legCredit, Type: TypeTopup, Amount: 1050}}; !reflect.DeepEqual(topup, want) {
		t.Errorf("topup legs = %+v, want %+v", topup, want)
	}
	transfer := legsOf(contract.TransactionProcessingData{TransactionID: txID, Type: contract.TypeTransfer, UserID: alice, RecipientID: bob, Amount: 700})
	want := []leg{
		{UserID: alice, TransactionID: txID, Name: legDebit, Type: TypeTransferOut, Amount: -700},
		{UserID: bob, TransactionID: txID, Name: legCredit, Type: TypeTransferIn, Amount: 700},
	}
	if !reflect.DeepEqual(transfer, want) {
		t.Errorf("transfer legs = %+v, want the debit first: %+v", transfer, want)
	}
}

func TestReversalsDue(t *testing.T) {
	wa, wb := bson.NewObjectID(), bson.NewObjectID()
	debit := entryDoc{WalletID: wa, UserID: alice, TransactionID: txID, Leg: legDebit, Amount: -700}
	credit := entryDoc{WalletID: wb, UserID: bob, TransactionID: txID, Leg: legCredit, Amount: 700}
	debitReversed := entryDoc{WalletID: wa, UserID: alice, TransactionID: txID, Leg: legDebit + reversalSuffix, Amount: 700}
	creditReversed := entryDoc{WalletID: wb, UserID: bob, TransactionID: txID, Leg: legCredit + reversalSuffix, Amount: -700}
	opening := entryDoc{WalletID: wa, UserID: alice, TransactionID: openingTransaction, Leg: legOpening, Amount: 500}

	revDebit := leg{UserID: alice, TransactionID: txID, Name: "debit.reversal", Type: TypeReversal, Amount: 700}
	revCredit := leg{UserID: bob, TransactionID: txID, Name: "credit.reversal", Type: TypeReversal, Amount: -700}
	tests := []struct {
		name    string
		entries []entryDoc
		want    []leg
	}{
		{"nothing applied", nil, nil},
		{"debit only", []entryDoc{debit}, []leg{revDebit}},
		{"both legs: the credit is taken back first", []entryDoc{debit, credit}, []leg{revCredit, revDebit}},
		{"credit already reversed", []entryDoc{debit, credit, creditReversed}, []leg{revDebit}},
		{"all reversed", []entryDoc{debit, credit, creditReversed, debitReversed}, nil},
		{"an opening entry is never reversed", []entryDoc{opening}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := reversalsDue(tt.entries); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reversalsDue = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateProcessing(t *testing.T) {
	valid := contract.TransactionProcessingData{TransactionID: txID, Type: contract.TypeTransfer, UserID: alice, RecipientID: bob, Amount: 1, Currency: "USD"}
	tests := []struct {
		name   string
		change func(*contract.TransactionProcessingData)
		want   string // "" = valid
	}{
		{"valid transfer", func(*contract.TransactionProcessingData) {}, ""},
		{"valid topup", func(p *contract.TransactionProcessingData) { p.Type, p.RecipientID = contract.TypeTopup, "" }, ""},
		{"max amount", func(p *contract.TransactionProcessingData) { p.Amount = money.MaxTransaction.Cents() }, ""},
		{"zero amount", func(p *contract.TransactionProcessingData) { p.Amount = 0 }, "amount"},
		{"negative amount", func(p *contract.TransactionProcessingData) { p.Amount = -5 }, "amount"},
		{"amount over the max", func(p *contract.TransactionProcessingData) { p.Amount = money.MaxTransaction.Cents() + 1 }, "amount"},
		{"missing transaction id", func(p *contract.TransactionProcessingData) { p.TransactionID = "" }, "transactionId"},
		{"upper-case id", func(p *contract.TransactionProcessingData) { p.UserID = strings.ToUpper(alice) }, "userId"},
		{"unknown type", func(p *contract.TransactionProcessingData) { p.Type = "withdrawal" }, "type"},
		{"transfer without recipient", func(p *contract.TransactionProcessingData) { p.RecipientID = "" }, "recipientId"},
		{"transfer to oneself", func(p *contract.TransactionProcessingData) { p.RecipientID = alice }, "two different users"},
		{"topup with a recipient", func(p *contract.TransactionProcessingData) { p.Type = contract.TypeTopup }, "no recipientId"},
		{"other currency", func(p *contract.TransactionProcessingData) { p.Currency = "EUR" }, "currency"},
		{"no currency", func(p *contract.TransactionProcessingData) { p.Currency = "" }, "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid
			tt.change(&p)
			err := validateProcessing(p, "USD")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("rejected a valid event: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error = %v, want one about %q", err, tt.want)
			}
		})
	}
}

func TestAuditFindsEveryBrokenLink(t *testing.T) {
	w := walletDoc{Balance: 300, Version: 3}
	var a audit
	for _, e := range []entryDoc{
		{Seq: 1, Amount: 100, BalanceAfter: 100},
		{Seq: 2, Amount: 100, BalanceAfter: 250}, // wrong balanceAfter
		{Seq: 4, Amount: -50, BalanceAfter: 200}, // gap
	} {
		a.add(e)
	}
	problems := a.check(w)
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"entry 2: balanceAfter 2.50", "seq 4 follows 2", "balance 3.00, Σ entries 1.50", "version 3, last entry 4"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q lack %q", problems, want)
		}
	}
	var clean audit
	clean.add(entryDoc{Seq: 1, Amount: 100, BalanceAfter: 100})
	clean.add(entryDoc{Seq: 2, Amount: -100, BalanceAfter: 0})
	if p := clean.check(walletDoc{Balance: 0, Version: 2}); len(p) != 0 {
		t.Errorf("a sound ledger has problems: %q", p)
	}
}
