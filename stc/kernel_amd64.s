//go:build !purego

// Hand-written DSF kernels (not generated). See kernel_amd64.go for the
// contracts. Byte adds/subtracts are VPADDB/VPSUBB; gathers are VPGATHERDD
// on the 64 KiB+64 scratch array (every 4-byte read at a uint16 index stays
// inside it), narrowed to bytes with VPMOVDB (AVX-512) or VPSHUFB+VPERMD
// (AVX2).

#include "textflag.h"

// func addVVAVX2(dst, a, b *byte, n int)
TEXT ·addVVAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

addvv2_64:
	CMPQ    CX, $64
	JB      addvv2_32
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPADDB  (DX), Y0, Y0
	VPADDB  32(DX), Y1, Y1
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $64, CX
	JMP     addvv2_64

addvv2_32:
	CMPQ    CX, $32
	JB      addvv2_done
	VMOVDQU (SI), Y0
	VPADDB  (DX), Y0, Y0
	VMOVDQU Y0, (DI)

addvv2_done:
	VZEROUPPER
	RET

// func subVVAVX2(dst, a, b *byte, n int)
TEXT ·subVVAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

subvv2_64:
	CMPQ    CX, $64
	JB      subvv2_32
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPSUBB  (DX), Y0, Y0
	VPSUBB  32(DX), Y1, Y1
	VMOVDQU Y0, (DI)
	VMOVDQU Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	SUBQ    $64, CX
	JMP     subvv2_64

subvv2_32:
	CMPQ    CX, $32
	JB      subvv2_done
	VMOVDQU (SI), Y0
	VPSUBB  (DX), Y0, Y0
	VMOVDQU Y0, (DI)

subvv2_done:
	VZEROUPPER
	RET

// func addVCAVX2(dst, a *byte, n int, c byte)
TEXT ·addVCAVX2(SB), NOSPLIT, $0-25
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         n+16(FP), CX
	VPBROADCASTB c+24(FP), Y2

addvc2_32:
	CMPQ    CX, $32
	JB      addvc2_done
	VPADDB  (SI), Y2, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     addvc2_32

addvc2_done:
	VZEROUPPER
	RET

// func addVVAVX512(dst, a, b *byte, n int)
TEXT ·addVVAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

addvv5_128:
	CMPQ     CX, $128
	JB       addvv5_64
	VMOVDQU8 (SI), Z0
	VMOVDQU8 64(SI), Z1
	VPADDB   (DX), Z0, Z0
	VPADDB   64(DX), Z1, Z1
	VMOVDQU8 Z0, (DI)
	VMOVDQU8 Z1, 64(DI)
	ADDQ     $128, SI
	ADDQ     $128, DX
	ADDQ     $128, DI
	SUBQ     $128, CX
	JMP      addvv5_128

addvv5_64:
	CMPQ     CX, $64
	JB       addvv5_tail
	VMOVDQU8 (SI), Z0
	VPADDB   (DX), Z0, Z0
	VMOVDQU8 Z0, (DI)
	ADDQ     $64, SI
	ADDQ     $64, DX
	ADDQ     $64, DI
	SUBQ     $64, CX

addvv5_tail:
	TESTQ      CX, CX
	JZ         addvv5_done
	MOVQ       $-1, AX
	BZHIQ      CX, AX, AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VMOVDQU8.Z (DX), K1, Z1
	VPADDB     Z1, Z0, Z0
	VMOVDQU8   Z0, K1, (DI)

addvv5_done:
	VZEROUPPER
	RET

// func subVVAVX512(dst, a, b *byte, n int)
TEXT ·subVVAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

subvv5_128:
	CMPQ     CX, $128
	JB       subvv5_64
	VMOVDQU8 (SI), Z0
	VMOVDQU8 64(SI), Z1
	VPSUBB   (DX), Z0, Z0
	VPSUBB   64(DX), Z1, Z1
	VMOVDQU8 Z0, (DI)
	VMOVDQU8 Z1, 64(DI)
	ADDQ     $128, SI
	ADDQ     $128, DX
	ADDQ     $128, DI
	SUBQ     $128, CX
	JMP      subvv5_128

subvv5_64:
	CMPQ     CX, $64
	JB       subvv5_tail
	VMOVDQU8 (SI), Z0
	VPSUBB   (DX), Z0, Z0
	VMOVDQU8 Z0, (DI)
	ADDQ     $64, SI
	ADDQ     $64, DX
	ADDQ     $64, DI
	SUBQ     $64, CX

subvv5_tail:
	TESTQ      CX, CX
	JZ         subvv5_done
	MOVQ       $-1, AX
	BZHIQ      CX, AX, AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VMOVDQU8.Z (DX), K1, Z1
	VPSUBB     Z1, Z0, Z0
	VMOVDQU8   Z0, K1, (DI)

subvv5_done:
	VZEROUPPER
	RET

// func addVCAVX512(dst, a *byte, n int, c byte)
TEXT ·addVCAVX512(SB), NOSPLIT, $0-25
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVBLZX      c+24(FP), AX
	VPBROADCASTB AX, Z2

addvc5_64:
	CMPQ     CX, $64
	JB       addvc5_tail
	VPADDB   (SI), Z2, Z0
	VMOVDQU8 Z0, (DI)
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	JMP      addvc5_64

addvc5_tail:
	TESTQ      CX, CX
	JZ         addvc5_done
	MOVQ       $-1, AX
	BZHIQ      CX, AX, AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VPADDB     Z2, Z0, Z0
	VMOVDQU8   Z0, K1, (DI)

addvc5_done:
	VZEROUPPER
	RET

// Byte-narrowing constants for the AVX2 gather: VPSHUFB keeps byte 0 of
// each dword in the low 4 bytes of each 128-bit lane; VPERMD then moves
// dwords 0 and 4 to 0 and 1.
DATA gatherShuf<>+0(SB)/8, $0x808080800c080400
DATA gatherShuf<>+8(SB)/8, $0x8080808080808080
DATA gatherShuf<>+16(SB)/8, $0x808080800c080400
DATA gatherShuf<>+24(SB)/8, $0x8080808080808080
GLOBL gatherShuf<>(SB), RODATA|NOPTR, $32

DATA gatherPerm<>+0(SB)/8, $0x0000000400000000
DATA gatherPerm<>+8(SB)/8, $0x0000000100000001
DATA gatherPerm<>+16(SB)/8, $0x0000000100000001
DATA gatherPerm<>+24(SB)/8, $0x0000000100000001
GLOBL gatherPerm<>(SB), RODATA|NOPTR, $32

// func gatherAddAVX2(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)
TEXT ·gatherAddAVX2(SB), NOSPLIT, $0-40
	MOVQ    dst+0(FP), DI
	MOVQ    sc+8(FP), R8
	MOVQ    idx+16(FP), BX
	MOVQ    off+24(FP), DX
	MOVQ    n+32(FP), CX
	VMOVDQU gatherShuf<>(SB), Y5
	VMOVDQU gatherPerm<>(SB), Y6

gadd2_loop:
	CMPQ       CX, $8
	JB         gadd2_done
	VPMOVZXWD  (BX), Y1
	VPCMPEQD   Y3, Y3, Y3
	VPXOR      Y2, Y2, Y2
	VPGATHERDD Y3, (R8)(Y1*1), Y2
	VPSHUFB    Y5, Y2, Y2
	VPERMD     Y2, Y6, Y2
	VMOVQ      (DX), X4
	VPADDB     X4, X2, X2
	VMOVQ      X2, (DI)
	ADDQ       $16, BX
	ADDQ       $8, DX
	ADDQ       $8, DI
	SUBQ       $8, CX
	JMP        gadd2_loop

gadd2_done:
	VZEROUPPER
	RET

// func gatherSubAVX2(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)
TEXT ·gatherSubAVX2(SB), NOSPLIT, $0-40
	MOVQ    dst+0(FP), DI
	MOVQ    sc+8(FP), R8
	MOVQ    idx+16(FP), BX
	MOVQ    off+24(FP), DX
	MOVQ    n+32(FP), CX
	VMOVDQU gatherShuf<>(SB), Y5
	VMOVDQU gatherPerm<>(SB), Y6

gsub2_loop:
	CMPQ       CX, $8
	JB         gsub2_done
	VPMOVZXWD  (BX), Y1
	VPCMPEQD   Y3, Y3, Y3
	VPXOR      Y2, Y2, Y2
	VPGATHERDD Y3, (R8)(Y1*1), Y2
	VPSHUFB    Y5, Y2, Y2
	VPERMD     Y2, Y6, Y2
	VMOVQ      (DX), X4
	VPSUBB     X4, X2, X2
	VMOVQ      X2, (DI)
	ADDQ       $16, BX
	ADDQ       $8, DX
	ADDQ       $8, DI
	SUBQ       $8, CX
	JMP        gsub2_loop

gsub2_done:
	VZEROUPPER
	RET

// func gatherAddAVX512(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)
TEXT ·gatherAddAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ sc+8(FP), R8
	MOVQ idx+16(FP), BX
	MOVQ off+24(FP), DX
	MOVQ n+32(FP), CX

gadd5_32:
	CMPQ       CX, $32
	JB         gadd5_16
	VPMOVZXWD  (BX), Z1
	VPMOVZXWD  32(BX), Z3
	KXNORW     K0, K0, K1
	KXNORW     K0, K0, K2
	VPXORD     Z2, Z2, Z2
	VPXORD     Z4, Z4, Z4
	VPGATHERDD (R8)(Z1*1), K1, Z2
	VPGATHERDD (R8)(Z3*1), K2, Z4
	VPMOVDB    Z2, X2
	VPMOVDB    Z4, X4
	VPADDB     (DX), X2, X2
	VPADDB     16(DX), X4, X4
	VMOVDQU    X2, (DI)
	VMOVDQU    X4, 16(DI)
	ADDQ       $64, BX
	ADDQ       $32, DX
	ADDQ       $32, DI
	SUBQ       $32, CX
	JMP        gadd5_32

gadd5_16:
	CMPQ       CX, $16
	JB         gadd5_done
	VPMOVZXWD  (BX), Z1
	KXNORW     K0, K0, K1
	VPXORD     Z2, Z2, Z2
	VPGATHERDD (R8)(Z1*1), K1, Z2
	VPMOVDB    Z2, X2
	VPADDB     (DX), X2, X2
	VMOVDQU    X2, (DI)

gadd5_done:
	VZEROUPPER
	RET

// func gatherSubAVX512(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)
TEXT ·gatherSubAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ sc+8(FP), R8
	MOVQ idx+16(FP), BX
	MOVQ off+24(FP), DX
	MOVQ n+32(FP), CX

gsub5_32:
	CMPQ       CX, $32
	JB         gsub5_16
	VPMOVZXWD  (BX), Z1
	VPMOVZXWD  32(BX), Z3
	KXNORW     K0, K0, K1
	KXNORW     K0, K0, K2
	VPXORD     Z2, Z2, Z2
	VPXORD     Z4, Z4, Z4
	VPGATHERDD (R8)(Z1*1), K1, Z2
	VPGATHERDD (R8)(Z3*1), K2, Z4
	VPMOVDB    Z2, X2
	VPMOVDB    Z4, X4
	VPSUBB     (DX), X2, X2
	VPSUBB     16(DX), X4, X4
	VMOVDQU    X2, (DI)
	VMOVDQU    X4, 16(DI)
	ADDQ       $64, BX
	ADDQ       $32, DX
	ADDQ       $32, DI
	SUBQ       $32, CX
	JMP        gsub5_32

gsub5_16:
	CMPQ       CX, $16
	JB         gsub5_done
	VPMOVZXWD  (BX), Z1
	KXNORW     K0, K0, K1
	VPXORD     Z2, Z2, Z2
	VPGATHERDD (R8)(Z1*1), K1, Z2
	VPMOVDB    Z2, X2
	VPSUBB     (DX), X2, X2
	VMOVDQU    X2, (DI)

gsub5_done:
	VZEROUPPER
	RET

// func byteSumAVX2(b *byte, n int) byte
// n is a multiple of 32. Bytes accumulate mod 256 per lane (VPADDB); the
// lanes are then summed with VPSADBW and the low byte returned.
TEXT ·byteSumAVX2(SB), NOSPLIT, $0-17
	MOVQ  b+0(FP), SI
	MOVQ  n+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

bsum2_64:
	CMPQ   CX, $64
	JB     bsum2_32
	VPADDB (SI), Y0, Y0
	VPADDB 32(SI), Y1, Y1
	ADDQ   $64, SI
	SUBQ   $64, CX
	JMP    bsum2_64

bsum2_32:
	CMPQ   CX, $32
	JB     bsum2_reduce
	VPADDB (SI), Y0, Y0

bsum2_reduce:
	VPADDB       Y1, Y0, Y0
	VPXOR        Y2, Y2, Y2
	VPSADBW      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	MOVB         AX, ret+16(FP)
	VZEROUPPER
	RET

// func byteSumAVX512(b *byte, n int) byte
// n is a multiple of 64.
TEXT ·byteSumAVX512(SB), NOSPLIT, $0-17
	MOVQ   b+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1

bsum5_128:
	CMPQ   CX, $128
	JB     bsum5_64
	VPADDB (SI), Z0, Z0
	VPADDB 64(SI), Z1, Z1
	ADDQ   $128, SI
	SUBQ   $128, CX
	JMP    bsum5_128

bsum5_64:
	CMPQ   CX, $64
	JB     bsum5_reduce
	VPADDB (SI), Z0, Z0

bsum5_reduce:
	VPADDB        Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDB        Y1, Y0, Y0
	VPXOR         Y2, Y2, Y2
	VPSADBW       Y2, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	MOVB          AX, ret+16(FP)
	VZEROUPPER
	RET
