package notifications

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/mint-wallet/mint/internal/contract"
	"github.com/mint-wallet/mint/internal/platform/money"
)

// Template names: the label of the emails_sent_total metric and part of every dedupe key.
const (
	TemplateWelcome           = "welcome"
	TemplateTopupCompleted    = "topup_completed"
	TemplateTransferSent      = "transfer_sent"
	TemplateTransferReceived  = "transfer_received"
	TemplateTransactionFailed = "transaction_failed"
)

// Templates lists every template, for tests and metrics.
var Templates = []string{TemplateWelcome, TemplateTopupCompleted, TemplateTransferSent, TemplateTransferReceived,
	TemplateTransactionFailed}

//go:embed templates
var templateFS embed.FS

// mailTemplate is one template's two files: <name>.txt defines "subject" and "text" (text/template:
// plain text, nothing to escape), <name>.html defines "title" and "body" inside layout.html
// (html/template: every value is escaped for its context, so a name like <script> is shown, never run).
type mailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

var mailTemplates = func() map[string]mailTemplate {
	out := map[string]mailTemplate{}
	for _, name := range Templates {
		out[name] = mailTemplate{
			text: texttemplate.Must(texttemplate.New(name).Option("missingkey=error").ParseFS(templateFS, "templates/"+name+".txt")),
			html: htmltemplate.Must(htmltemplate.New(name).Option("missingkey=error").ParseFS(templateFS,
				"templates/layout.html", "templates/"+name+".html")),
		}
	}
	return out
}()

// mailData is what every template can show.
type mailData struct {
	FirstName, LastName string
	Amount              string // exact, with currency: "10.50 USD"
	Kind                string // "top-up" or "transfer"
	Counterparty        string // the other party's full name, "" when unknown
	Description         string
	TransactionID       string
	Reason              string // why a transaction failed, in plain words
}

// rendered is a template's output.
type rendered struct {
	Subject, Text, HTML string
}

func render(name string, d mailData) (rendered, error) {
	t := mailTemplates[name]
	var subj, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subj, "subject", d); err != nil {
		return rendered{}, err
	}
	if err := t.text.ExecuteTemplate(&text, "text", d); err != nil {
		return rendered{}, err
	}
	if err := t.html.ExecuteTemplate(&html, "layout", d); err != nil {
		return rendered{}, err
	}
	return rendered{Subject: oneLine(subj.String()), Text: strings.TrimLeft(text.String(), "\n"), HTML: html.String()}, nil
}

// oneLine keeps a subject on one line whatever a name contains.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// formatAmount is the exact amount with its currency: 1050, "USD" → "10.50 USD".
func formatAmount(cents int64, currency string) string {
	return money.FromCents(cents).String() + " " + currency
}

// kindOf names a transaction type for a person.
func kindOf(txType string) string {
	if txType == contract.TypeTopup {
		return "top-up"
	}
	return "transfer"
}

// reasonInWords explains a failure reason to the user who initiated the transaction.
func reasonInWords(reason string) string {
	switch reason {
	case contract.ReasonInsufficientFunds:
		return "you did not have enough money in your wallet"
	case contract.ReasonWalletNotFound:
		return "a wallet it needed was not found"
	default:
		return "something went wrong on our side and we could not complete it"
	}
}
