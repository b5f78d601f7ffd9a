package crypto

import (
	"bufio"
	"crypto/rand"
	_ "embed"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"sync"
)

// effLargeWordlist is the EFF Large Wordlist for Passphrases, copyright
// 2016 Electronic Frontier Foundation, https://www.eff.org/dice, licensed
// under CC BY 3.0 US (see eff_large_wordlist.NOTICE). Each line is five
// dice digits, a tab and a word.
//
//go:embed eff_large_wordlist.txt
var effLargeWordlist string

// PassphraseWords is the number of words in a generated passphrase. Each
// word is one of 7,776, so a passphrase carries 7 × log2(7776) ≈ 90.5
// bits of entropy, before the S2K stretching that protects it in a
// message (see SealOptions.Passphrase).
const PassphraseWords = 7

var (
	wordsOnce sync.Once
	words     []string
)

func wordlist() []string {
	wordsOnce.Do(func() {
		sc := bufio.NewScanner(strings.NewReader(effLargeWordlist))
		for sc.Scan() {
			if _, w, ok := strings.Cut(sc.Text(), "\t"); ok && w != "" {
				words = append(words, w)
			}
		}
	})
	return words
}

// GeneratePassphrase returns a new passphrase of [PassphraseWords] words
// from the EFF Large Wordlist, chosen uniformly with crypto/rand and
// joined by spaces, e.g. "cleft unplug gargle spoon tiara motor sulfur"
// (a few words, like "t-shirt", have a hyphen of their own).
func GeneratePassphrase() (string, error) {
	return generatePassphrase(rand.Reader, PassphraseWords)
}

// PassphraseEntropy returns the entropy in bits of a passphrase made by
// [GeneratePassphrase].
func PassphraseEntropy() float64 {
	return float64(PassphraseWords) * math.Log2(float64(len(wordlist())))
}

func generatePassphrase(r io.Reader, n int) (string, error) {
	ws := wordlist()
	if len(ws) != 7776 {
		return "", fmt.Errorf("crypto: embedded word list has %d words, want 7776", len(ws))
	}
	max := big.NewInt(int64(len(ws)))
	out := make([]string, n)
	for i := range out {
		j, err := rand.Int(r, max)
		if err != nil {
			return "", fmt.Errorf("crypto: generate passphrase: %w", err)
		}
		out[i] = ws[j.Int64()]
	}
	return strings.Join(out, " "), nil
}
