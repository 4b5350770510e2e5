package main

// runEngineDatagram runs the datagram blast through the stt engine (mode
// "engine"). It is owned by the engine work: until the engine lands it
// reports errEngineModeUnavailable, and `-mode all` skips it with a note.
// The contract is documented on datagramConfig and datagramResult.
func runEngineDatagram(cfg datagramConfig) (datagramResult, error) {
	return datagramResult{}, errEngineModeUnavailable
}
