// The agent's softphone: one RTCPeerConnection kept for the whole session. The browser makes
// the offer (G.711 only, so the gateway relays without transcoding); calls are put on it by the
// server, so answering costs no new ICE/DTLS handshake. A connection that fails is made again,
// and a page without a live connection makes one whatever the server believes (the server
// drops its stale one when the offer arrives). While no call is up the microphone is taken off
// the sender, so an idle agent sends no RTP at all.

const AUDIO = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

export class Softphone {
  constructor(send, audioElement, onState) {
    this.send = send;            // (message) => void, over the agent WebSocket
    this.audio = audioElement;
    this.onState = onState;      // ('connecting' | 'connected' | 'lost') => void
    this.pc = null;
    this.stream = null;
    this.sender = null;
    this.negotiating = false;
    this.lostTimer = null;
    this.sending = false;       // whether a call wants the microphone on the wire
    this.stopped = false;       // replaced by another page: never reconnect
  }

  get connected() {
    return this.pc !== null && this.pc.connectionState === 'connected';
  }

  async microphone() {
    if (!this.stream) {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO, video: false });
    }
    return this.stream;
  }

  // Makes a new connection and sends its offer (with candidates: we wait for gathering).
  async negotiate() {
    if (this.negotiating || this.stopped) return;
    this.negotiating = true;
    try {
      if (this.pc) this.pc.close();
      const stream = await this.microphone();
      const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      this.pc = pc;
      const transceiver = pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendrecv', streams: [stream] });
      this.sender = transceiver.sender;
      // Idle: nothing on the wire until a call wants the microphone.
      if (!this.sending) await this.sender.replaceTrack(null);
      const codecs = RTCRtpReceiver.getCapabilities('audio').codecs;
      const pick = (name) => codecs.filter((c) => c.mimeType.toLowerCase() === name);
      const preferred = [...pick('audio/pcmu'), ...pick('audio/pcma'), ...pick('audio/telephone-event').filter((c) => c.clockRate === 8000)];
      if (transceiver.setCodecPreferences && preferred.length > 0) transceiver.setCodecPreferences(preferred);
      pc.ontrack = (event) => {
        this.audio.srcObject = event.streams[0] || new MediaStream([event.track]);
        this.audio.play().catch(() => {});
      };
      pc.onicecandidate = (event) => {
        if (event.candidate && pc.iceGatheringState === 'complete') {
          this.send({ type: 'candidate', candidate: event.candidate.candidate, sdpMid: event.candidate.sdpMid, sdpMLineIndex: event.candidate.sdpMLineIndex });
        }
      };
      pc.onconnectionstatechange = () => this.watch(pc);
      this.onState('connecting');
      await pc.setLocalDescription(await pc.createOffer());
      await this.gathered(pc, 3000);
      this.send({ type: 'offer', sdp: pc.localDescription.sdp });
    } catch (error) {
      console.error('softphone', error);
      this.onState('lost');
    } finally {
      this.negotiating = false;
    }
  }

  gathered(pc, timeoutMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
      });
    });
  }

  async answer(sdp) {
    if (this.pc && this.pc.signalingState === 'have-local-offer') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
    }
  }

  watch(pc) {
    if (pc !== this.pc || this.stopped) return;
    const state = pc.connectionState;
    clearTimeout(this.lostTimer);
    if (state === 'connected') {
      this.onState('connected');
    } else if (state === 'failed' || state === 'closed') {
      this.onState('lost');
      this.lostTimer = setTimeout(() => this.negotiate(), 1000);
    } else if (state === 'disconnected') {
      this.onState('lost');
      // ICE may recover by itself; if not, start over.
      this.lostTimer = setTimeout(() => { if (pc === this.pc && pc.connectionState !== 'connected') this.negotiate(); }, 4000);
    }
  }

  // The server's view after a (re)connect of the WebSocket. A page without a live connection
  // makes one, whatever the server believes: a "connected" or "connecting" it reports may be
  // the connection of a page that was closed or reloaded.
  serverSays(state) {
    if (this.stopped || this.negotiating) return;
    const dead = this.pc === null || ['failed', 'closed'].includes(this.pc.connectionState);
    // No connection of our own (a new page), a dead one, or the server lost ours (restart).
    // A connection still being set up is left to finish.
    if (dead || state === 'lost') this.negotiate();
  }

  // Puts the microphone on the wire (a call is up) or takes it off (idle).
  async talking(on) {
    this.sending = on;
    if (!this.sender) return;
    const track = on && this.stream ? this.stream.getAudioTracks()[0] : null;
    if (this.sender.track !== track) await this.sender.replaceTrack(track).catch((error) => console.error('softphone track', error));
  }

  // Another page took over: close and never reconnect.
  stop() {
    this.stopped = true;
    clearTimeout(this.lostTimer);
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  mute(on) {
    if (this.stream) this.stream.getAudioTracks().forEach((t) => { t.enabled = !on; });
  }

  dtmf(digit) {
    if (this.sender && this.sender.dtmf && this.sender.dtmf.canInsertDTMF) this.sender.dtmf.insertDTMF(digit, 120, 60);
  }
}
