# Sourced by bench/ab.sh and bench/instructions.sh: what both set up before their servers.

# A self-signed certificate for 127.0.0.1: DIR/cert.pem and DIR/key.pem.
self_signed_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

# The plugin folder of one benchmark mode.
#
#   plugin_folder DIR MODE WASM_DIR     MODE: none (empty), per-call or warm
#
# The three example strategies, as scripts/dev.sh sets them up; the middle-name strategy is
# granted its directory lookups (with no Okta org configured each answers `unknown` at once,
# as in bench/run.sh); in warm mode each manifest asks for a warm instance.
plugin_folder() {
  local dir=$1 mode=$2 wasm=$3 warm=""
  mkdir -p "$dir"
  [[ $mode == none ]] && return 0
  cp "$wasm/normalize_login.wasm" "$dir/10-normalize-login.wasm"
  cp "$wasm/link_single_match.wasm" "$dir/20-link-single-match.wasm"
  cp "$wasm/login_middle_name.wasm" "$dir/30-login-middle-name.wasm"
  [[ $mode == warm ]] && warm=$'instance = "warm"\n'
  printf '%s' "$warm" > "$dir/10-normalize-login.toml"
  printf '%s' "$warm" > "$dir/20-link-single-match.toml"
  printf 'grants = ["directory"]\n%s' "$warm" > "$dir/30-login-middle-name.toml"
}
