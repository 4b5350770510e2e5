// Package suite implements STT frame protection: the cipher suites, the
// per-direction key schedule and key phases, and sealing and opening of
// frames (docs/PROTOCOL.md, "Frame protection and control frames").
//
// A session has one [Sealer] for the frames it sends and one [Opener] for
// the frames it receives, each built from that direction's 32-byte traffic
// secret. The Sealer assigns strictly increasing sequence numbers (the AEAD
// nonce is 4 zero bytes ‖ the 8-byte big-endian sequence), so a (key, nonce)
// pair is never reused; the Opener authenticates the 30-byte frame header as
// associated data, decrypts the AEAD suites' frames in place (their payload
// is ciphertext ‖ tag), rejects frames whose metadata does not fit the suite
// (plaintext frames fail authentication, or, under STC, the M = 0 check),
// and drops replays with a [replay.Window] that is marked only after
// authentication.
//
// Key phases: [Sealer.Rotate] switches to the next phase (flag 0x40 carries
// the phase parity); the Opener keeps the next phase's keys precomputed and
// promotes them on the first authenticated frame of that phase, and keeps the
// previous phase's keys while its frames can still be inside the replay
// window, so reordering across a rotation loses nothing.
//
// Seal and Open never allocate (after the first use of each payload size on
// the STC suites, whose DSF plans compile lazily; and except inside
// golang.org/x/crypto's generic ChaCha20-Poly1305, used by purego builds and
// on non-amd64 CPUs, which heap-allocates its 32-byte Poly1305 key per call)
// and return sentinel errors, never wrapped, so callers can count drops by
// reason without allocating. Only the Open that promotes a new key phase
// allocates (it derives the phase after it).
// Neither Sealer nor Opener is safe for concurrent use.
package suite
