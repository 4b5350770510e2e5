package suite

import (
	"encoding/hex"
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	for _, id := range allSuites {
		got, err := ParseName(Name(id))
		if err != nil || !slices.Equal(got, []uint8{id}) {
			t.Errorf("ParseName(Name(%d)) = %v, %v", id, got, err)
		}
		if !Known(id) || MetadataLen(id) < 0 {
			t.Errorf("suite %d not known", id)
		}
	}
	for _, id := range []uint8{0, 5, 0xff} {
		if Known(id) || Name(id) != "unknown" || MetadataLen(id) != -1 {
			t.Errorf("suite %d known", id)
		}
	}
	if MetadataLen(AES256GCM) != 0 || MetadataLen(ChaCha20Poly1305) != 0 || MetadataLen(STCChaCha20Poly1305) != 32 {
		t.Error("metadata lengths")
	}
}

func TestPreferred(t *testing.T) {
	p := Preferred()
	want := []uint8{ChaCha20Poly1305, AES256GCM}
	if HasAESHardware() {
		want = []uint8{AES256GCM, ChaCha20Poly1305}
	}
	if !slices.Equal(p, want) {
		t.Fatalf("Preferred = %v, want %v", p, want)
	}
	p[0] = 99 // a fresh slice each time
	if Preferred()[0] == 99 {
		t.Fatal("Preferred returns shared state")
	}
	aead, _ := ParseName("aead")
	if !slices.Equal(aead, want) {
		t.Fatalf("aead = %v", aead)
	}
	st, _ := ParseName("STC")
	if len(st) != 2 || !IsSTC(st[0]) || !IsSTC(st[1]) || usesAES(st[0]) != HasAESHardware() {
		t.Fatalf("stc = %v", st)
	}
	mix, err := ParseName(" stc-chacha20-poly1305 , aead,chacha20-poly1305,stc")
	if err != nil || len(mix) != 4 || mix[0] != STCChaCha20Poly1305 {
		t.Fatalf("mix = %v, %v", mix, err)
	}
	for _, bad := range []string{"", "aes", "aead,", "rc4"} {
		if _, err := ParseName(bad); err != ErrUnknownSuite {
			t.Errorf("ParseName(%q) = %v", bad, err)
		}
	}
}

func TestConstructorErrors(t *testing.T) {
	if _, err := NewSealer(9, testSecret(1)); err != ErrUnknownSuite {
		t.Error(err)
	}
	if _, err := NewOpener(0, testSecret(1)); err != ErrUnknownSuite {
		t.Error(err)
	}
	if _, err := NewSealer(AES256GCM, make([]byte, 31)); err != ErrSecretLength {
		t.Error(err)
	}
	if _, err := NewOpener(STCAES256GCM, make([]byte, 33)); err != ErrSecretLength {
		t.Error(err)
	}
}

// TestKeyScheduleKAT checks the labels against values computed
// independently with Python's hmac (HKDF-Expand, RFC 5869).
func TestKeyScheduleKAT(t *testing.T) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	if got := hex.EncodeToString(AEADKey(secret)); got != "49d9219a6204bd39722498beb3d0ee2874cfee04abea210e826f0d7d3058ecca" {
		t.Errorf("AEADKey = %s", got)
	}
	if got := hex.EncodeToString(STCSeed(secret)); got != "cea4345cbb544b402fc7cba77a516c7ccb32a97e94f53921891684dac6bc834a" {
		t.Errorf("STCSeed = %s", got)
	}
}

// TestSealKAT compares complete frames with frames built independently by
// Python (cryptography's AESGCM / ChaCha20Poly1305, hmac-based HKDF), at
// phase 0 (sequence 5) and phase 1 (sequence 6, after Rotate). Python's
// output is ciphertext ‖ tag, laid out as docs/PROTOCOL.md section 5 says
// (M = 0, then that output as the payload).
func TestSealKAT(t *testing.T) {
	kat := map[uint8][2]string{
		AES256GCM: {
			"5354380100010203040506070800000000000000050000018bcfe568000000000700cd5efe40c24f94b68d9607087df6682bee48198691e76784d8",
			"5354380140010203040506070800000000000000060000018bcfe568000000000700608953fd2c4f35397007d4320a90759c418d56915b217c4df4",
		},
		ChaCha20Poly1305: {
			"5354380100010203040506070800000000000000050000018bcfe5680000000007004d016ed9048dbb4cd10f05d118141bd86f0bc095ebc3f98bd0",
			"5354380140010203040506070800000000000000060000018bcfe568000000000700ccc7bfcdb66f5803db1c0d28167adcfd15063b5a7ab3c1bbea",
		},
	}
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	for id, frames := range kat {
		s, err := NewSealer(id, secret)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := NewOpener(id, secret)
		s.seq = 5
		for phase, want := range frames {
			h := testHeader()
			h.Type, h.Flags, h.StreamID = 1, 0, 7
			buf := make([]byte, 128)
			n, err := s.Seal(buf, &h, []byte("hello stt"))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf[:n]); got != want {
				t.Errorf("%s phase %d:\n got %s\nwant %s", Name(id), phase, got, want)
			}
			mustOpen(t, o, buf[:n], []byte("hello stt"))
			if _, err := s.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
