package web_test

import (
	"os"
	"testing"
)

// TestBrowserWebhooks: in Settings, a bot's owner adds a webhook, sees
// its token once, is refused a URL on the node's own network, disables
// and enables it, opens its (empty) delivery log and deletes it
// (testdata/browser/webhooks.test.mjs).
func TestBrowserWebhooks(t *testing.T) {
	chromium, nodeBin := browserEnv(t)
	acme := startNode(t, "Acme")
	bot := acme.person(t, "deploybot", "Deploy Bot")
	acme.room(t, bot, "Deploys", "")
	cfg := e2eConfig{
		People:      map[string]*person{"bot": bot},
		Screenshots: screenshotDir(t),
		Trace:       os.Getenv("HORENSO_BROWSER_TRACE") != "",
	}
	runScripts(t, nodeBin, chromium, cfg, "testdata/browser/webhooks.test.mjs")
}
