// Package jwtsign holds the signing keys of the auth service and issues Mint's access
// tokens: RS256 JWTs whose kid is the RFC 7638 thumbprint of the signing key.
// Verification lives in internal/platform/jwtverify, shared by every service.
//
// # Key set file
//
// The keys live in one JSON file (mode 0600, always replaced atomically by
// writing a temporary file and renaming it). It lists every key still needed:
// the newest signs, the older ones stay published in the JWKS so tokens they
// signed keep verifying until they expire. Generate writes a first key,
// LoadOrCreate does so on `mint dev`'s first start, and Rotate (behind
// `mint keys rotate`) adds a key and prunes those retired longer than a token
// lifetime (plus RetirementGrace) ago.
//
// # Reload
//
// Rotate usually runs in another process than the auth service. A KeySet
// notices by ReloadIfChanged, which costs one stat(2) when nothing changed:
// the file is only ever renamed into place, so a changed inode, size or mtime
// means a new complete file. The auth service calls ReloadIfChanged every
// 5 s, so it serves and signs with a rotated key promptly; RetirementGrace
// covers that lag. A failed reload keeps the keys in use. Verifiers in other
// services learn the new kid from the JWKS the first time a token carrying it
// arrives.
package jwtsign
