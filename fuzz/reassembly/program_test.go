package reassembly

// program builds fuzz inputs for the seeds: each method appends one
// operation in the encoding the harnesses decode (op byte: kind in bits
// 0-2, mode in bits 3-4, length scale x8 in bit 5).
type program struct{ b []byte }

func (p *program) op(kind, mode uint8, big bool, args ...byte) *program {
	o := kind | mode<<3
	if big {
		o |= 0x20
	}
	p.b = append(append(p.b, o), args...)
	return p
}

// seg: a segment at offset v (mode 0 absolute, 1 read+v, 2 highest-v, 3 far).
func (p *program) seg(mode uint8, v uint16, n uint8, big, fin, corrupt bool) *program {
	var f byte
	if fin {
		f |= 1
	}
	if corrupt {
		f |= 2
	}
	return p.op(0, mode, big, byte(v>>8), byte(v), n, f)
}

// next: the next in-order segment of n (x8 if big) bytes.
func (p *program) next(n uint8, big, fin bool) *program {
	return p.op(1, 0, big, n, b2u(fin))
}

func (p *program) read(n uint16) *program { return p.op(2, 0, false, byte(n>>8), byte(n)) }

func (p *program) space(n uint16, stale bool) *program {
	return p.op(3, 0, false, byte(n>>8), byte(n), b2u(stale))
}

func (p *program) limit(w uint16) *program { return p.op(4, 0, false, byte(w>>8), byte(w)) }

// reset: mode 0 final = highest, 1 = known final, 2 = highest + v%64, 3 = v.
func (p *program) reset(mode uint8, v uint16, code uint8) *program {
	return p.op(5, mode, false, byte(v>>8), byte(v), code)
}

func (p *program) replay(i uint8, corrupt bool) *program { return p.op(6, 0, false, i, b2u(corrupt)) }

// fin: a FIN without data at mode 0 highest, 1 known final, 2 read, 3 v.
func (p *program) fin(mode uint8, v uint16) *program {
	return p.op(7, mode, false, byte(v>>8), byte(v))
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}
