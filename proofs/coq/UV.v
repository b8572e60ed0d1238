(** The uv model on its exact one-step map at y = 0 (THEORY §3, §5), with the
    map, the lemma and K = x2/n taken from Generated.v:
    lam_t converges, the loss f_t^2/2 tends to 0, and if f_t never hits 0 then
    eta lam_inf <= 2; from 2 < eta lam_0 the NTK eigenvalue must fall (the
    catapult). *)

From Coquelicot Require Import Coquelicot.
Require Import Reals Lra Psatz.
From Catapult Require Import Generated Window.
Open Scope R_scope.

(** ** The generated map, rewritten *)

Lemma K_uv_pos : forall x2 n, 0 < x2 -> 0 < n -> 0 < K_uv_lemma x2 n.
Proof. intros x2 n Hx Hn. unfold K_uv_lemma. apply Rdiv_lt_0_compat; lra. Qed.

(** The norm update is the weight-norm lemma at y = 0. *)
Lemma uv_w2_next_lemma : forall eta f lam w,
  uv_w2_next eta f lam w = w + lemma_increment eta lam f f.
Proof. intros. unfold uv_w2_next, lemma_increment. ring. Qed.

(** lam' - lam = K (w' - w): lam - K w is constant along the map. *)
Lemma uv_lam_next_invariant : forall eta x2 n f lam w, n <> 0 ->
  uv_lam_next eta x2 n f lam = lam + K_uv_lemma x2 n * (uv_w2_next eta f lam w - w).
Proof. intros. unfold uv_lam_next, uv_w2_next, K_uv_lemma. field. auto. Qed.

(** f' = f (1 - eta lam + eta^2 K f^2): the residual's multiplier. *)
Lemma uv_f_next_factor : forall eta x2 n f lam, n <> 0 ->
  uv_f_next eta x2 n f lam = f * (1 - eta * lam + eta ^ 2 * K_uv_lemma x2 n * f ^ 2).
Proof. intros. unfold uv_f_next, K_uv_lemma. field. auto. Qed.

(** lam'^2 - 4 K f'^2 = (1 - eta^2 K f^2)^2 (lam^2 - 4 K f^2). *)
Lemma uv_state_identity : forall eta x2 n f lam, n <> 0 ->
  uv_lam_next eta x2 n f lam ^ 2 - 4 * K_uv_lemma x2 n * uv_f_next eta x2 n f lam ^ 2
  = (1 - eta ^ 2 * K_uv_lemma x2 n * f ^ 2) ^ 2 * (lam ^ 2 - 4 * K_uv_lemma x2 n * f ^ 2).
Proof. intros. unfold uv_lam_next, uv_f_next, K_uv_lemma. field. auto. Qed.

(** Every uv state has 0 <= lam and 4 K f^2 <= lam^2 (Cauchy-Schwarz and
    AM-GM on f = v^T U x / sqrt n, lam = (|Ux|^2 + x2 |v|^2)/n); the map keeps both. *)
Lemma uv_lam_next_nonneg : forall eta x2 n f lam,
  0 < eta -> 0 < x2 -> 0 < n -> 0 <= lam -> 4 * K_uv_lemma x2 n * f ^ 2 <= lam ^ 2 ->
  0 <= uv_lam_next eta x2 n f lam.
Proof.
  intros eta x2 n f lam Heta Hx Hn Hl Hcs.
  pose proof (K_uv_pos x2 n Hx Hn) as HK.
  assert (Hform : eta * uv_lam_next eta x2 n f lam
                  = eta * lam * (1 + eta ^ 2 * K_uv_lemma x2 n * f ^ 2) - 4 * (eta ^ 2 * K_uv_lemma x2 n * f ^ 2)).
  { unfold uv_lam_next, K_uv_lemma. field. lra. }
  set (s := eta ^ 2 * K_uv_lemma x2 n * f ^ 2) in Hform.
  set (u := eta * lam) in Hform.
  assert (Hs : 0 <= s) by (unfold s; apply Rmult_le_pos; [apply Rmult_le_pos; [apply pow2_ge_0 | lra] | apply pow2_ge_0]).
  assert (Hu : 0 <= u) by (unfold u; apply Rmult_le_pos; lra).
  assert (Hus : 4 * s <= u ^ 2).
  { unfold s, u. replace ((eta * lam) ^ 2) with (eta ^ 2 * lam ^ 2) by ring.
    assert (0 <= eta ^ 2) by apply pow2_ge_0. nra. }
  assert (Hpos : 0 <= u * (1 + s) - 4 * s).
  { apply Rnot_lt_le. intro Hneg.
    assert (H1 : 0 <= u * (1 + s)) by (apply Rmult_le_pos; lra).
    assert (H2 : (u * (1 + s)) ^ 2 < (4 * s) ^ 2) by nra.
    assert (H3 : 4 * s * (1 + s) ^ 2 <= (u * (1 + s)) ^ 2).
    { replace ((u * (1 + s)) ^ 2) with (u ^ 2 * (1 + s) ^ 2) by ring.
      apply Rmult_le_compat_r; [apply pow2_ge_0 | exact Hus]. }
    assert (H5 : 4 * s * (1 - s) ^ 2 < 0).
    { replace (4 * s * (1 - s) ^ 2) with (4 * s * (1 + s) ^ 2 - (4 * s) ^ 2) by ring. lra. }
    assert (0 <= 4 * s * (1 - s) ^ 2) by (apply Rmult_le_pos; [lra | apply pow2_ge_0]).
    lra. }
  rewrite <- Hform in Hpos. nra.
Qed.

Lemma uv_state_next : forall eta x2 n f lam,
  0 < eta -> 0 < x2 -> 0 < n -> 0 <= lam -> 4 * K_uv_lemma x2 n * f ^ 2 <= lam ^ 2 ->
  4 * K_uv_lemma x2 n * uv_f_next eta x2 n f lam ^ 2 <= uv_lam_next eta x2 n f lam ^ 2.
Proof.
  intros eta x2 n f lam Heta Hx Hn Hl Hcs.
  pose proof (uv_state_identity eta x2 n f lam ltac:(lra)) as Hid.
  assert (0 <= (1 - eta ^ 2 * K_uv_lemma x2 n * f ^ 2) ^ 2) by apply pow2_ge_0.
  assert (0 <= (1 - eta ^ 2 * K_uv_lemma x2 n * f ^ 2) ^ 2 * (lam ^ 2 - 4 * K_uv_lemma x2 n * f ^ 2))
    by (apply Rmult_le_pos; lra).
  lra.
Qed.

(** ** Along a trajectory *)

Section UV.
Variables (f lam w : nat -> R) (eta x2 n : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis x2_pos : 0 < x2.
Hypothesis n_pos : 0 < n.
Hypothesis f_step : forall t, f (S t) = uv_f_next eta x2 n (f t) (lam t).
Hypothesis lam_step : forall t, lam (S t) = uv_lam_next eta x2 n (f t) (lam t).
Hypothesis w_step : forall t, w (S t) = uv_w2_next eta (f t) (lam t) (w t).
(** true of every uv state: lam >= 0, the NTK bound, and 4 K f^2 <= lam^2 *)
Hypothesis lam0_nonneg : 0 <= lam 0%nat.
Hypothesis ntk0 : lam 0%nat <= ntk_rhs_uv_lemma x2 n (w 0%nat).
Hypothesis state0 : 4 * K_uv_lemma x2 n * f 0%nat ^ 2 <= lam 0%nat ^ 2.
(** the window *)
Hypothesis window : eta * K_uv_lemma x2 n * w 0%nat < 4.

Let HK : 0 < K_uv_lemma x2 n := K_uv_pos x2 n x2_pos n_pos.

Theorem uv_lam_minus_Kw_constant : forall t,
  lam t - K_uv_lemma x2 n * w t = lam 0%nat - K_uv_lemma x2 n * w 0%nat.
Proof.
  induction t as [| t IH]; [reflexivity |].
  rewrite lam_step, w_step, (uv_lam_next_invariant eta x2 n (f t) (lam t) (w t)) by lra.
  rewrite <- IH. ring.
Qed.

Theorem uv_state_invariant : forall t,
  0 <= lam t /\ 4 * K_uv_lemma x2 n * f t ^ 2 <= lam t ^ 2.
Proof.
  induction t as [| t [IH1 IH2]]; [split; assumption |].
  rewrite f_step, lam_step. split.
  - apply uv_lam_next_nonneg; assumption.
  - apply uv_state_next; assumption.
Qed.

Theorem uv_ntk_bound : forall t, lam t <= K_uv_lemma x2 n * w t.
Proof.
  intro t. pose proof (uv_lam_minus_Kw_constant t).
  assert (lam 0%nat <= K_uv_lemma x2 n * w 0%nat).
  { unfold ntk_rhs_uv_lemma, K_uv_lemma in *. unfold Rdiv in *. lra. }
  lra.
Qed.

Let w_lemma : forall t, w (S t) = w t + lemma_increment eta (lam t) (f t) (f t).
Proof. intro t. rewrite w_step. apply uv_w2_next_lemma. Qed.

Let lam_nonneg : forall t, 0 <= lam t.
Proof. intro t. apply uv_state_invariant. Qed.

Ltac window := first [assumption | exact HK | exact uv_ntk_bound].

Theorem uv_norm_non_increasing : forall t, w (S t) <= w t.
Proof. apply (window_norm_non_increasing w lam f eta (K_uv_lemma x2 n)); window. Qed.

Theorem uv_below_edge : forall t,
  eta * lam t <= eta * K_uv_lemma x2 n * w t /\ eta * K_uv_lemma x2 n * w t <= eta * K_uv_lemma x2 n * w 0%nat
  /\ eta * K_uv_lemma x2 n * w 0%nat < 4.
Proof. apply (window_below_edge w lam f eta (K_uv_lemma x2 n)); window. Qed.

Theorem uv_sum_bound : forall m,
  sum_n (fun t => f t ^ 2) m <= w 0%nat / (eta * (4 - eta * K_uv_lemma x2 n * w 0%nat)).
Proof. apply (window_sum_bound w lam f eta (K_uv_lemma x2 n)); window. Qed.

Theorem uv_residual_to_zero : is_lim_seq f 0.
Proof. apply (window_residual_to_zero w lam f eta (K_uv_lemma x2 n)); window. Qed.

Theorem uv_loss_to_zero : is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof. apply (window_loss_to_zero w lam f eta (K_uv_lemma x2 n)); window. Qed.

Theorem uv_lam_non_increasing : forall t, lam (S t) <= lam t.
Proof.
  intro t. pose proof (uv_lam_minus_Kw_constant (S t)). pose proof (uv_lam_minus_Kw_constant t).
  pose proof uv_norm_non_increasing t.
  assert (K_uv_lemma x2 n * w (S t) <= K_uv_lemma x2 n * w t) by (apply Rmult_le_compat_l; lra).
  lra.
Qed.

Lemma uv_lam_le_lam0 : forall t, lam t <= lam 0%nat.
Proof.
  induction t as [| t IH]; [lra |]. pose proof (uv_lam_non_increasing t). lra.
Qed.

(** lam_t converges, to a limit in [0, lam_0]. *)
Theorem uv_lam_converges : exists lam_inf : R,
  is_lim_seq lam lam_inf /\ 0 <= lam_inf <= lam 0%nat.
Proof.
  destruct (ex_finite_lim_seq_decr lam 0 uv_lam_non_increasing lam_nonneg) as [l Hl].
  exists l. split; [exact Hl | split].
  - assert (Rbar_le 0 l) by (apply (is_lim_seq_le (fun _ => 0) lam 0 l); [exact lam_nonneg | apply is_lim_seq_const | exact Hl]).
    exact H.
  - assert (Rbar_le l (lam 0%nat))
      by (apply (is_lim_seq_le lam (fun _ => lam 0%nat) l (lam 0%nat));
          [exact uv_lam_le_lam0 | exact Hl | apply is_lim_seq_const]).
    exact H.
Qed.

(** If f_t never hits 0, then eta lam_inf <= 2: were eta lam_inf > 2, the
    multiplier 1 - eta lam_t + eta^2 K f_t^2 of f_t would tend to
    1 - eta lam_inf < -1, |f_t| would eventually never decrease, and f_t would
    not tend to 0. *)
Theorem uv_sharpness_at_most_2 : (forall t, f t <> 0) ->
  forall lam_inf : R, is_lim_seq lam lam_inf -> eta * lam_inf <= 2.
Proof.
  intros Hf lam_inf Hlam. apply Rnot_lt_le. intro Hgt.
  set (eps := eta * lam_inf - 2).
  assert (Heps : 0 < eps) by (unfold eps; lra).
  (* lam_t is eventually within eps / (2 eta) of lam_inf *)
  assert (Hd1 : 0 < eps / (2 * eta)) by (apply Rdiv_lt_0_compat; lra).
  apply is_lim_seq_spec in Hlam. destruct (Hlam (mkposreal _ Hd1)) as [T1 HT1].
  (* eta^2 K f_t^2 is eventually below eps / 2 *)
  pose proof uv_residual_to_zero as Hf0.
  assert (Hsq : is_lim_seq (fun t => eta ^ 2 * K_uv_lemma x2 n * (f t * f t)) 0).
  { replace (Finite 0) with (Finite (eta ^ 2 * K_uv_lemma x2 n * (0 * 0))) by (f_equal; ring).
    apply (is_lim_seq_mult' (fun _ => eta ^ 2 * K_uv_lemma x2 n) (fun t => f t * f t));
      [apply is_lim_seq_const | apply is_lim_seq_mult'; exact Hf0]. }
  assert (Hd2 : 0 < eps / 2) by lra.
  apply is_lim_seq_spec in Hsq. destruct (Hsq (mkposreal _ Hd2)) as [T2 HT2].
  (* |f_t| eventually tends to 0: below |f_T| for T the later index *)
  set (T := max T1 T2).
  assert (HfT : 0 < Rabs (f T)) by (apply Rabs_pos_lt, Hf).
  apply is_lim_seq_spec in Hf0. destruct (Hf0 (mkposreal _ HfT)) as [T3 HT3].
  (* past T the multiplier is below -1, so |f| never decreases *)
  assert (Hgrow : forall k, Rabs (f T) <= Rabs (f (k + T)%nat)).
  { induction k as [| k IH]; [simpl; lra |].
    assert (Hk1 : (T1 <= k + T)%nat) by (unfold T; lia).
    assert (Hk2 : (T2 <= k + T)%nat) by (unfold T; lia).
    specialize (HT1 _ Hk1). specialize (HT2 _ Hk2). simpl in HT1, HT2.
    rewrite Rminus_0_r in HT2.
    set (t := (k + T)%nat) in *.
    replace (S k + T)%nat with (S t) by (unfold t; lia).
    rewrite f_step, uv_f_next_factor by lra. rewrite Rabs_mult.
    set (m := 1 - eta * lam t + eta ^ 2 * K_uv_lemma x2 n * f t ^ 2).
    apply Rabs_def2 in HT1. destruct HT1 as [_ HT1].
    assert (Hlt : eta * (eps / (2 * eta)) = eps / 2) by (field; lra).
    assert (Hlam_t : eta * lam_inf - eps / 2 < eta * lam t).
    { assert (eta * (- (eps / (2 * eta))) < eta * (lam t - lam_inf)) by (apply Rmult_lt_compat_l; lra).
      lra. }
    assert (Hsmall : eta ^ 2 * K_uv_lemma x2 n * f t ^ 2 < eps / 2).
    { replace (f t ^ 2) with (f t * f t) by ring.
      assert (0 <= eta ^ 2 * K_uv_lemma x2 n * (f t * f t)).
      { apply Rmult_le_pos; [apply Rmult_le_pos; [apply pow2_ge_0 | lra] | apply Rle_0_sqr]. }
      rewrite Rabs_right in HT2 by lra. exact HT2. }
    assert (Hm : 1 <= Rabs m).
    { assert (m < -1) by (unfold m, eps in *; lra).
      rewrite Rabs_left by lra. lra. }
    pose proof (Rabs_pos (f t)).
    assert (Rabs (f t) * 1 <= Rabs (f t) * Rabs m) by (apply Rmult_le_compat_l; lra).
    lra. }
  assert (HT3' : (T3 <= T3 + T)%nat) by lia.
  specialize (HT3 _ HT3'). simpl in HT3. rewrite Rminus_0_r in HT3.
  specialize (Hgrow T3). lra.
Qed.

(** The catapult: from 2 < eta lam_0 inside the window, if f_t never hits 0,
    lam_t converges to a limit with eta lam_inf <= 2 < eta lam_0. *)
Theorem uv_catapult : (forall t, f t <> 0) -> 2 < eta * lam 0%nat ->
  exists lam_inf : R, is_lim_seq lam lam_inf /\ eta * lam_inf <= 2 /\ lam_inf < lam 0%nat.
Proof.
  intros Hf Hk. destruct uv_lam_converges as [l [Hl _]].
  exists l. pose proof (uv_sharpness_at_most_2 Hf l Hl).
  repeat split; [exact Hl | lra |].
  apply (Rmult_lt_reg_l eta); lra.
Qed.

End UV.
