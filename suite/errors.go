package suite

import "errors"

// Errors. Open and Seal return them unwrapped: a dropped frame never
// allocates, and callers can count drops with a switch or errors.Is.
var (
	// ErrReplay reports a frame whose sequence was already authenticated.
	ErrReplay = errors.New("suite: replayed frame")
	// ErrTooOld reports a frame whose sequence is below the replay window.
	ErrTooOld = errors.New("suite: frame older than the replay window")
	// ErrAuth reports a frame that failed authentication (forged, corrupted,
	// or sealed under another key).
	ErrAuth = errors.New("suite: frame authentication failed")
	// ErrBadMetadata reports metadata of the wrong length for the suite, or
	// an authenticated STC chunk header that does not describe the payload.
	ErrBadMetadata = errors.New("suite: bad frame metadata")
	// ErrPlaintext reports a frame without metadata (M = 0): a plaintext
	// frame, never accepted on an established session (defect D7).
	ErrPlaintext = errors.New("suite: plaintext frame on a protected session")
	// ErrReservedFlag reports flag 0x80 set on a protected frame (Open), or
	// passed to Seal.
	ErrReservedFlag = errors.New("suite: reserved flag 0x80 set")
	// ErrUnknownPhase reports a frame of a key phase whose keys are not held
	// (the previous phase after its grace period).
	ErrUnknownPhase = errors.New("suite: frame of an unknown key phase")
	// ErrShortBuffer reports a destination buffer that is too small.
	ErrShortBuffer = errors.New("suite: buffer too small")
	// ErrPayloadTooLarge reports a payload above MaxPayload.
	ErrPayloadTooLarge = errors.New("suite: payload too large")
	// ErrSequenceExhausted reports that the sender's sequence space is used
	// up (the next sequence would be 2^64-1). Sequences never reset, not
	// even across key phases, so the session must be closed and a new one
	// established.
	ErrSequenceExhausted = errors.New("suite: sequence numbers exhausted, close the session")
	// ErrUnknownSuite reports a suite id or name that is not defined.
	ErrUnknownSuite = errors.New("suite: unknown cipher suite")
	// ErrSecretLength reports a traffic secret that is not 32 bytes.
	ErrSecretLength = errors.New("suite: traffic secret must be 32 bytes")
)
