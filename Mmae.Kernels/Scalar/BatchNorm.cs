namespace Mmae.Kernels.Scalar;

// Batch normalisation over the rows of a matrix, PyTorch's BatchNorm1d conventions.
// N = rows (batch), C = cols (features); x, y, dx, dy: (N, C); gamma, beta, running and saved
// statistics, dGamma, dBeta: (C). Per column j: mean_j = (1/N) Σ_i x_ij,
// var_j = (1/N) Σ_i (x_ij − mean_j)² (biased), invStd_j = 1/sqrt(var_j + eps),
// x̂_ij = (x_ij − mean_j)·invStd_j, y_ij = gamma_j·x̂_ij + beta_j.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// The variance is computed in two passes (mean first, then squared deviations), so no
    /// cancellation creeps into the oracle. The running variance receives the unbiased
    /// var_j·N/(N − 1), which needs N ≥ 2; PyTorch refuses a single row in training mode too.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">rows is below 2, or cols is negative.
    /// </exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols or cols.</exception>
    public void BatchNormForwardTrain(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float momentum,
        float eps,
        DeviceBuffer y,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd)
    {
        if (rows < 2)
        {
            throw new ArgumentOutOfRangeException(
                nameof(rows),
                rows,
                "ScalarBackend.BatchNormForwardTrain: expected rows >= 2, got "
                    + $"{rows}. The unbiased running variance divides by rows - 1; "
                    + "use evaluation mode for single rows.");
        }

        NonNegative(cols);
        double[] xData = Own(x, rows * cols);
        double[] gammaData = Own(gamma, cols);
        double[] betaData = Own(beta, cols);
        double[] runMean = Own(runningMean, cols);
        double[] runVar = Own(runningVar, cols);
        double[] yData = Own(y, rows * cols);
        double[] meanOut = Own(saveMean, cols);
        double[] invStdOut = Own(saveInvStd, cols);

        for (int j = 0; j < cols; j++)
        {
            double sum = 0.0;
            for (int i = 0; i < rows; i++)
            {
                sum += xData[i * cols + j];
            }

            double mean = sum / rows;

            double squares = 0.0;
            for (int i = 0; i < rows; i++)
            {
                double deviation = xData[i * cols + j] - mean;
                squares += deviation * deviation;
            }

            double biasedVar = squares / rows;
            double unbiasedVar = squares / (rows - 1);
            double invStd = 1.0 / Math.Sqrt(biasedVar + eps);

            for (int i = 0; i < rows; i++)
            {
                double xHat = (xData[i * cols + j] - mean) * invStd;
                yData[i * cols + j] = gammaData[j] * xHat + betaData[j];
            }

            meanOut[j] = mean;
            invStdOut[j] = invStd;
            runMean[j] = (1.0 - momentum) * runMean[j] + momentum * mean;
            runVar[j] = (1.0 - momentum) * runVar[j] + momentum * unbiasedVar;
        }
    }

    /// <inheritdoc/>
    /// <remarks>y_ij = gamma_j·(x_ij − runningMean_j)/sqrt(runningVar_j + eps) + beta_j.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols or cols.</exception>
    public void BatchNormForwardEval(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float eps,
        DeviceBuffer y)
    {
        NonNegative(rows);
        NonNegative(cols);
        double[] xData = Own(x, rows * cols);
        double[] gammaData = Own(gamma, cols);
        double[] betaData = Own(beta, cols);
        double[] runMean = Own(runningMean, cols);
        double[] runVar = Own(runningVar, cols);
        double[] yData = Own(y, rows * cols);

        for (int j = 0; j < cols; j++)
        {
            double invStd = 1.0 / Math.Sqrt(runVar[j] + eps);
            for (int i = 0; i < rows; i++)
            {
                double xHat = (xData[i * cols + j] - runMean[j]) * invStd;
                yData[i * cols + j] = gammaData[j] * xHat + betaData[j];
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// x̂ is rebuilt from x and the saved statistics rather than stored. Per column:
    /// dBeta_j += Σ_i dy_ij, dGamma_j += Σ_i dy_ij·x̂_ij, and the dx formula above with means
    /// taken over the rows.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols or cols.</exception>
    public void BatchNormBackward(
        DeviceBuffer x,
        DeviceBuffer dy,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd,
        DeviceBuffer dx,
        DeviceBuffer dGamma,
        DeviceBuffer dBeta)
    {
        NonNegative(rows);
        NonNegative(cols);
        double[] xData = Own(x, rows * cols);
        double[] dyData = Own(dy, rows * cols);
        double[] gammaData = Own(gamma, cols);
        double[] meanData = Own(saveMean, cols);
        double[] invStdData = Own(saveInvStd, cols);
        double[] dxData = Own(dx, rows * cols);
        double[] dGammaData = Own(dGamma, cols);
        double[] dBetaData = Own(dBeta, cols);

        for (int j = 0; j < cols; j++)
        {
            double mean = meanData[j];
            double invStd = invStdData[j];

            double sumDy = 0.0;
            double sumDyXHat = 0.0;
            for (int i = 0; i < rows; i++)
            {
                double xHat = (xData[i * cols + j] - mean) * invStd;
                sumDy += dyData[i * cols + j];
                sumDyXHat += dyData[i * cols + j] * xHat;
            }

            double meanDy = sumDy / rows;
            double meanDyXHat = sumDyXHat / rows;

            // dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂))
            for (int i = 0; i < rows; i++)
            {
                double xHat = (xData[i * cols + j] - mean) * invStd;
                double centred = dyData[i * cols + j] - meanDy - xHat * meanDyXHat;
                dxData[i * cols + j] = gammaData[j] * invStd * centred;
            }

            dGammaData[j] += sumDyXHat;
            dBetaData[j] += sumDy;
        }
    }
}
