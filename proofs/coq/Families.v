(** The catapult window for the other families, one datum, y = 0 (THEORY §5):
    the abstract theorem of Window.v is all they need once the constant K of
    their NTK bound (from the bound catalogue, in Generated.v) is granted as a
    hypothesis  lam_t <= K |θ_t|^2  (the quadratic model with bias: the shifted
    form for its modified norm Q). Also: the catalogue's window end k_max is
    exactly the condition eta K w_0 < 4 of the theorems. *)

From Coquelicot Require Import Coquelicot.
Require Import Reals Lra Psatz.
From Catapult Require Import Generated Window UV.
Open Scope R_scope.

(** eta lam_0 < 4 lam_0 / D  iff  eta D < 4, for 0 < lam_0 <= D. *)
Lemma k_form : forall eta lam0 D, 0 < lam0 -> lam0 <= D ->
  (eta * lam0 < 4 * lam0 / D <-> eta * D < 4).
Proof.
  intros eta lam0 D Hl HD. assert (HD0 : 0 < D) by lra.
  replace (4 * lam0 / D) with (lam0 * (4 / D)) by (field; lra).
  rewrite (Rmult_comm eta lam0). split; intro H.
  - apply Rmult_lt_reg_l in H; [| lra].
    apply (Rmult_lt_compat_r D) in H; [| lra]. replace (4 / D * D) with 4 in H by (field; lra). lra.
  - apply Rmult_lt_compat_l; [lra |].
    apply (Rmult_lt_reg_r D); [lra |]. replace (4 / D * D) with 4 by (field; lra). lra.
Qed.

(** ** uv: the catalogue's k_max *)
Theorem uv_window_k_max : forall eta x2 n lam0 w0, 0 < x2 -> 0 < n -> 0 < lam0 ->
  lam0 <= K_uv_lemma x2 n * w0 ->
  (eta * lam0 < k_max_uv_lemma x2 n lam0 w0 <-> eta * K_uv_lemma x2 n * w0 < 4).
Proof.
  intros eta x2 n lam0 w0 Hx Hn Hl Hb.
  assert (0 < w0).
  { pose proof (K_uv_pos x2 n Hx Hn). apply Rnot_le_lt. intro. nra. }
  replace (k_max_uv_lemma x2 n lam0 w0) with (4 * lam0 / (K_uv_lemma x2 n * w0))
    by (unfold k_max_uv_lemma, K_uv_lemma; field; lra).
  rewrite Rmult_assoc. apply k_form; assumption.
Qed.

(** ** Pure quadratic model: K = zeta^2 lambda_max(psi^2) *)

Lemma K_pure_quadratic_pos : forall zeta Lpsi2, 0 < zeta -> 0 < Lpsi2 ->
  0 < K_pure_quadratic_single zeta Lpsi2.
Proof. intros. unfold K_pure_quadratic_single. apply Rmult_lt_0_compat; [lra | apply pow_lt; lra]. Qed.

Lemma ntk_rhs_pure_quadratic_K : forall zeta Lpsi2 w,
  ntk_rhs_pure_quadratic_single zeta Lpsi2 w = K_pure_quadratic_single zeta Lpsi2 * w.
Proof. intros. unfold ntk_rhs_pure_quadratic_single, K_pure_quadratic_single. ring. Qed.

Theorem pure_quadratic_window_k_max : forall eta zeta Lpsi2 lam0 w0, 0 < zeta -> 0 < Lpsi2 -> 0 < lam0 ->
  lam0 <= ntk_rhs_pure_quadratic_single zeta Lpsi2 w0 ->
  (eta * lam0 < k_max_pure_quadratic_single zeta Lpsi2 lam0 w0
   <-> eta * K_pure_quadratic_single zeta Lpsi2 * w0 < 4).
Proof.
  intros eta zeta Lpsi2 lam0 w0 Hz HL Hl Hb. rewrite ntk_rhs_pure_quadratic_K in Hb.
  pose proof (K_pure_quadratic_pos zeta Lpsi2 Hz HL).
  assert (0 < w0) by (apply Rnot_le_lt; intro; nra).
  replace (k_max_pure_quadratic_single zeta Lpsi2 lam0 w0) with (4 * lam0 / (K_pure_quadratic_single zeta Lpsi2 * w0))
    by (unfold k_max_pure_quadratic_single, K_pure_quadratic_single; field;
        repeat split; try (apply pow_nonzero); lra).
  rewrite Rmult_assoc. apply k_form; assumption.
Qed.

Section PureQuadratic.
Variables (w lam f : nat -> R) (eta zeta Lpsi2 : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis zeta_pos : 0 < zeta.
Hypothesis Lpsi2_pos : 0 < Lpsi2.
Hypothesis step : forall t, w (S t) = w t + lemma_increment eta (lam t) (f t) (f t).
Hypothesis lam_nonneg : forall t, 0 <= lam t.
Hypothesis ntk_bound : forall t, lam t <= ntk_rhs_pure_quadratic_single zeta Lpsi2 (w t).
Hypothesis window : eta * K_pure_quadratic_single zeta Lpsi2 * w 0%nat < 4.

Let HK := K_pure_quadratic_pos zeta Lpsi2 zeta_pos Lpsi2_pos.
Let ntk : forall t, lam t <= K_pure_quadratic_single zeta Lpsi2 * w t.
Proof. intro t. rewrite <- ntk_rhs_pure_quadratic_K. apply ntk_bound. Qed.
Ltac window := first [assumption | exact HK].

Theorem pure_quadratic_norm_non_increasing : forall t, w (S t) <= w t.
Proof. apply (window_norm_non_increasing w lam f eta (K_pure_quadratic_single zeta Lpsi2)); window. Qed.

Theorem pure_quadratic_below_edge : forall t,
  eta * lam t <= eta * K_pure_quadratic_single zeta Lpsi2 * w t
  /\ eta * K_pure_quadratic_single zeta Lpsi2 * w t <= eta * K_pure_quadratic_single zeta Lpsi2 * w 0%nat
  /\ eta * K_pure_quadratic_single zeta Lpsi2 * w 0%nat < 4.
Proof. apply (window_below_edge w lam f eta (K_pure_quadratic_single zeta Lpsi2)); window. Qed.

Theorem pure_quadratic_sum_bound : forall m,
  sum_n (fun t => f t ^ 2) m <= w 0%nat / (eta * (4 - eta * K_pure_quadratic_single zeta Lpsi2 * w 0%nat)).
Proof. apply (window_sum_bound w lam f eta (K_pure_quadratic_single zeta Lpsi2)); window. Qed.

Theorem pure_quadratic_loss_to_zero : is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof. apply (window_loss_to_zero w lam f eta (K_pure_quadratic_single zeta Lpsi2)); window. Qed.

End PureQuadratic.

(** ** Two-layer homogeneous net: K = x2 max(1, a^2) / (n d) *)

Lemma K_two_layer_pos : forall x2 n d a, 0 < x2 -> 0 < n -> 0 < d -> 0 < K_two_layer_single x2 n d a.
Proof.
  intros. unfold K_two_layer_single. pose proof (Rmax_l 1 (a ^ 2)).
  apply Rdiv_lt_0_compat; [apply Rmult_lt_0_compat; lra | apply Rmult_lt_0_compat; lra].
Qed.

Lemma ntk_rhs_two_layer_K : forall x2 n d a w, 0 < n -> 0 < d ->
  ntk_rhs_two_layer_single x2 n d a w = K_two_layer_single x2 n d a * w.
Proof. intros. unfold ntk_rhs_two_layer_single, K_two_layer_single. field. lra. Qed.

Theorem two_layer_window_k_max : forall eta x2 n d a lam0 w0, 0 < x2 -> 0 < n -> 0 < d -> 0 < lam0 ->
  lam0 <= ntk_rhs_two_layer_single x2 n d a w0 ->
  (eta * lam0 < k_max_two_layer_single x2 n d a lam0 w0 <-> eta * K_two_layer_single x2 n d a * w0 < 4).
Proof.
  intros eta x2 n d a lam0 w0 Hx Hn Hd Hl Hb. rewrite ntk_rhs_two_layer_K in Hb by lra.
  pose proof (K_two_layer_pos x2 n d a Hx Hn Hd). pose proof (Rmax_l 1 (a ^ 2)).
  assert (0 < w0) by (apply Rnot_le_lt; intro; nra).
  replace (k_max_two_layer_single x2 n d a lam0 w0) with (4 * lam0 / (K_two_layer_single x2 n d a * w0))
    by (unfold k_max_two_layer_single, K_two_layer_single; field; lra).
  rewrite Rmult_assoc. apply k_form; assumption.
Qed.

Section TwoLayer.
Variables (w lam f : nat -> R) (eta x2 n d a : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis x2_pos : 0 < x2.
Hypothesis n_pos : 0 < n.
Hypothesis d_pos : 0 < d.
Hypothesis step : forall t, w (S t) = w t + lemma_increment eta (lam t) (f t) (f t).
Hypothesis lam_nonneg : forall t, 0 <= lam t.
Hypothesis ntk_bound : forall t, lam t <= ntk_rhs_two_layer_single x2 n d a (w t).
Hypothesis window : eta * K_two_layer_single x2 n d a * w 0%nat < 4.

Let HK := K_two_layer_pos x2 n d a x2_pos n_pos d_pos.
Let ntk : forall t, lam t <= K_two_layer_single x2 n d a * w t.
Proof. intro t. rewrite <- ntk_rhs_two_layer_K by lra. apply ntk_bound. Qed.
Ltac window := first [assumption | exact HK].

Theorem two_layer_norm_non_increasing : forall t, w (S t) <= w t.
Proof. apply (window_norm_non_increasing w lam f eta (K_two_layer_single x2 n d a)); window. Qed.

Theorem two_layer_below_edge : forall t,
  eta * lam t <= eta * K_two_layer_single x2 n d a * w t
  /\ eta * K_two_layer_single x2 n d a * w t <= eta * K_two_layer_single x2 n d a * w 0%nat
  /\ eta * K_two_layer_single x2 n d a * w 0%nat < 4.
Proof. apply (window_below_edge w lam f eta (K_two_layer_single x2 n d a)); window. Qed.

Theorem two_layer_sum_bound : forall m,
  sum_n (fun t => f t ^ 2) m <= w 0%nat / (eta * (4 - eta * K_two_layer_single x2 n d a * w 0%nat)).
Proof. apply (window_sum_bound w lam f eta (K_two_layer_single x2 n d a)); window. Qed.

Theorem two_layer_loss_to_zero : is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof. apply (window_loss_to_zero w lam f eta (K_two_layer_single x2 n d a)); window. Qed.

End TwoLayer.

(** ** Quadratic model with bias: the modified norm Q, c = |phi|^2, b = 2 |phi|^2 *)

Lemma norm_increment_quadratic_bias_at_y0 : forall eta lam phi2 f,
  norm_increment_quadratic_bias_feature eta lam phi2 f f = eta * f ^ 2 * (eta * (lam + phi2) - 4).
Proof. intros. unfold norm_increment_quadratic_bias_feature. ring. Qed.

Theorem quadratic_bias_window_k_max : forall eta zeta Lpsi2 phi2 lam0 Q0,
  0 < zeta -> 0 < Lpsi2 -> 0 < phi2 -> 0 < lam0 -> 0 <= Q0 ->
  (eta * lam0 < k_max_quadratic_bias_feature zeta Lpsi2 phi2 lam0 Q0
   <-> eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q0) < 4).
Proof.
  intros eta zeta Lpsi2 phi2 lam0 Q0 Hz HL Hp Hl HQ.
  assert (0 <= K_quadratic_bias_feature zeta Lpsi2 * Q0).
  { unfold K_quadratic_bias_feature. apply Rmult_le_pos; [| lra].
    apply Rmult_le_pos; [lra | apply pow2_ge_0]. }
  (* the window condition alone does not need lam0 <= ...: compare through 4 lam0 / D directly *)
  set (D := 2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q0).
  assert (HD : 0 < D) by (unfold D; lra).
  replace (k_max_quadratic_bias_feature zeta Lpsi2 phi2 lam0 Q0) with (4 * lam0 / D)
    by (unfold D, k_max_quadratic_bias_feature, K_quadratic_bias_feature; field; unfold D, K_quadratic_bias_feature in HD; lra).
  replace (4 * lam0 / D) with (lam0 * (4 / D)) by (field; lra).
  rewrite (Rmult_comm eta lam0). split; intro Hw.
  - apply Rmult_lt_reg_l in Hw; [| lra].
    apply (Rmult_lt_compat_r D) in Hw; [| lra]. replace (4 / D * D) with 4 in Hw by (field; lra). lra.
  - apply Rmult_lt_compat_l; [lra |].
    apply (Rmult_lt_reg_r D); [lra |]. replace (4 / D * D) with 4 by (field; lra). lra.
Qed.

Section QuadraticBias.
Variables (Q lam f : nat -> R) (eta zeta Lpsi2 phi2 : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis zeta_pos : 0 < zeta.
Hypothesis Lpsi2_pos : 0 < Lpsi2.
(** Q = |θ|^2 + (θ_φ.φ)^2/|φ|^2 >= 0 at every state *)
Hypothesis Q_nonneg : forall t, 0 <= Q t.
Hypothesis step : forall t,
  Q (S t) = Q t + norm_increment_quadratic_bias_feature eta (lam t) phi2 (f t) (f t).
Hypothesis ntk_bound : forall t, lam t <= ntk_rhs_quadratic_bias_feature zeta Lpsi2 phi2 (Q t).
Hypothesis window : eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q 0%nat) < 4.

Let HK : 0 <= K_quadratic_bias_feature zeta Lpsi2.
Proof. unfold K_quadratic_bias_feature. apply Rmult_le_pos; [lra | apply pow2_ge_0]. Qed.
Let step' : forall t, Q (S t) <= Q t + eta * f t ^ 2 * (eta * (lam t + phi2) - 4).
Proof. intro t. rewrite step, norm_increment_quadratic_bias_at_y0. lra. Qed.
Let bound' : forall t, lam t + phi2 <= 2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q t.
Proof.
  intro t. specialize (ntk_bound t).
  unfold ntk_rhs_quadratic_bias_feature, K_quadratic_bias_feature in *. lra.
Qed.
Let sq_nonneg : forall t, 0 <= f t ^ 2.
Proof. intro t. apply pow2_ge_0. Qed.
Ltac window := first [assumption | exact HK].

Theorem quadratic_bias_norm_non_increasing : forall t, Q (S t) <= Q t.
Proof.
  apply (shifted_norm_non_increasing Q lam (fun t => f t ^ 2) eta (K_quadratic_bias_feature zeta Lpsi2)
           (2 * phi2) phi2); window.
Qed.

Theorem quadratic_bias_below_edge : forall t,
  eta * (lam t + phi2) <= eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q t)
  /\ eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q t)
     <= eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q 0%nat)
  /\ eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q 0%nat) < 4.
Proof.
  apply (shifted_below_edge Q lam (fun t => f t ^ 2) eta (K_quadratic_bias_feature zeta Lpsi2) (2 * phi2) phi2);
    window.
Qed.

Theorem quadratic_bias_sum_bound : forall m,
  sum_n (fun t => f t ^ 2) m
  <= Q 0%nat / (eta * (4 - eta * (2 * phi2 + K_quadratic_bias_feature zeta Lpsi2 * Q 0%nat))).
Proof.
  apply (shifted_sum_bound Q lam (fun t => f t ^ 2) eta (K_quadratic_bias_feature zeta Lpsi2) (2 * phi2) phi2);
    window.
Qed.

Theorem quadratic_bias_loss_to_zero : is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof.
  apply loss_of_square.
  apply (shifted_to_zero Q lam (fun t => f t ^ 2) eta (K_quadratic_bias_feature zeta Lpsi2) (2 * phi2) phi2);
    window.
Qed.

End QuadraticBias.
